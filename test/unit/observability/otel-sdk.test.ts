import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchOptions, tracingDecision } from '../../../src/observability/otel-sdk.js';
import { routeTemplate } from '../../../src/observability/http-span.js';

describe('tracingDecision: the standard OTEL_* variables', () => {
  it('is off without an endpoint or exporter, so the SDK is never loaded', () => {
    expect(tracingDecision({})).toMatchObject({ enabled: false });
    expect(tracingDecision({ OTEL_SERVICE_NAME: 'x' })).toMatchObject({ enabled: false });
    expect(tracingDecision({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toMatchObject({ enabled: false });
  });

  it('is on with an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp', () => {
    expect(tracingDecision({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({ enabled: true });
    expect(tracingDecision({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toEqual({ enabled: true });
    expect(tracingDecision({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual({ enabled: true });
    expect(tracingDecision({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })).toEqual({ enabled: true });
  });

  it('is off when told so or asked for what it cannot do', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(tracingDecision({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toMatchObject({ enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' });
    expect(tracingDecision({ ...endpoint, OTEL_TRACES_EXPORTER: 'otlp,none' })).toMatchObject({ enabled: false });
    expect(tracingDecision({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' })).toMatchObject({ enabled: false });
    expect(tracingDecision({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' })).toMatchObject({ enabled: false });
    expect(tracingDecision({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatchObject({ enabled: false });
    expect(tracingDecision({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).toEqual({ enabled: true });
  });

  it('reads OTEL_BSP_* and ignores invalid values', () => {
    expect(batchOptions({ OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BSP_MAX_QUEUE_SIZE: 'lots', OTEL_BSP_EXPORT_TIMEOUT: '-1' })).toEqual({ scheduledDelayMillis: 100 });
  });
});

describe('routeTemplate', () => {
  it('never puts a key in a span name', () => {
    expect(routeTemplate('/v1/items/patient%2F7')).toBe('/v1/items/{key}');
    expect(routeTemplate('/v1/items')).toBe('/v1/items');
    expect(routeTemplate('/metrics')).toBe('/metrics');
    expect(routeTemplate('/etc/passwd')).toBe('unknown route');
  });
});

describe('the SDK is loaded only on demand', () => {
  it('no source file imports an OpenTelemetry package other than the API statically', () => {
    const root = new URL('../../../src/', import.meta.url).pathname;
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const offenders = files.filter((f) => /^import[^;]*from '@opentelemetry\/(?!api')/m.test(readFileSync(path.join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
    // The one place that loads it, and only through import().
    expect(readFileSync(path.join(root, 'observability/otel-sdk.ts'), 'utf8')).toContain("import('@opentelemetry/sdk-trace')");
  });
});
