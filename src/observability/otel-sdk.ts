/**
 * OpenTelemetry export the standard way: when the `OTEL_*` variables ask for traces, the daemon
 * registers a tracer provider that sends its spans (apply spans, HTTP server spans) over OTLP/HTTP.
 * The SDK is imported only then, so a node without those variables loads none of it; the engine
 * itself only ever uses `@opentelemetry/api`, which is a no-op without a provider.
 *
 * The resource is built from this node and the environment only (`OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`): no resource detector that looks anything up over the network (cloud
 * metadata endpoints and the like) is ever run.
 */
import { trace } from '@opentelemetry/api';
import type { Env } from '../config/env.js';
import type { Logger } from './logger.js';

export type TracingDecision = { enabled: true } | { enabled: false; reason: string };

const SHUTDOWN_DEADLINE_MS = 5000;
const SUPPORTED_PROTOCOLS = ['http/json', 'http/protobuf'];

/** Whether the environment asks for trace export, by the OpenTelemetry SDK environment rules. */
export function tracingDecision(env: Env): TracingDecision {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '');
  if (exporters.includes('none')) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  if (exporters.length > 0 && !exporters.includes('otlp')) {
    return { enabled: false, reason: `OTEL_TRACES_EXPORTER=${exporters.join(',')}: only otlp is supported` };
  }
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (exporters.length === 0 && (endpoint === undefined || endpoint.trim() === '')) return { enabled: false, reason: 'no OTEL_EXPORTER_OTLP_ENDPOINT' };
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim().toLowerCase();
  if (protocol !== undefined && protocol !== '' && !SUPPORTED_PROTOCOLS.includes(protocol)) {
    return { enabled: false, reason: `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: only OTLP over HTTP is supported` };
  }
  return { enabled: true };
}

/** The standard OTEL_BSP_* variables (the SDK package leaves reading them to its caller); invalid ones are ignored. */
export function batchOptions(env: Env): { scheduledDelayMillis?: number; maxQueueSize?: number; maxExportBatchSize?: number; exportTimeoutMillis?: number } {
  const positive = (name: string): number | undefined => {
    const raw = env[name];
    const value = raw === undefined ? NaN : Number(raw);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  const entries = {
    scheduledDelayMillis: positive('OTEL_BSP_SCHEDULE_DELAY'),
    maxQueueSize: positive('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: positive('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    exportTimeoutMillis: positive('OTEL_BSP_EXPORT_TIMEOUT'),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}

let active = false;

/** True while a tracer provider from `startTracing` is registered: callers skip building spans otherwise. */
export function tracingActive(): boolean {
  return active;
}

export interface TracingHandle {
  /** Sends the spans still buffered, then unregisters the provider. */
  shutdown(): Promise<void>;
}

export interface TracingInfo {
  version: string;
  nodeId: string;
}

/** Registers the OTLP exporter when the environment asks for it; null (and no SDK loaded) otherwise. */
export async function startTracing(env: Env, info: TracingInfo, logger: Logger): Promise<TracingHandle | null> {
  const decision = tracingDecision(env);
  if (!decision.enabled) {
    // Only worth a line when someone configured OpenTelemetry and it stays off.
    if (Object.keys(env).some((k) => k.startsWith('OTEL_'))) logger.info({ reason: decision.reason }, 'OpenTelemetry trace export off');
    return null;
  }
  const [{ TracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes, detectResources, envDetector }] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  // The environment's attributes (envDetector: OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME) win over ours.
  const resource = resourceFromAttributes({
    'service.name': 'replication-engine',
    'service.version': info.version,
    'service.instance.id': info.nodeId,
  }).merge(detectResources({ detectors: [envDetector] }));
  // The exporter reads its endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_*.
  const exporter = new OTLPTraceExporter();
  const provider = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter, ...batchOptions(env) })] });
  trace.setGlobalTracerProvider(provider);
  active = true;
  logger.info({ service_name: resource.attributes['service.name'] }, 'OpenTelemetry trace export on (OTLP/HTTP)');
  return {
    async shutdown() {
      active = false;
      // Bounded: an unreachable collector must not hold up a graceful stop (systemd's TimeoutStopSec).
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => {
        timer = setTimeout(() => resolve('deadline'), SHUTDOWN_DEADLINE_MS);
      });
      try {
        const outcome = await Promise.race([provider.shutdown().then(() => 'done' as const), deadline]);
        if (outcome === 'deadline') logger.warn({ deadline_ms: SHUTDOWN_DEADLINE_MS }, 'OpenTelemetry: the last spans were not sent in time');
      } catch (err) {
        logger.warn({ err }, 'OpenTelemetry: could not send the last spans');
      } finally {
        clearTimeout(timer);
      }
      trace.disable();
    },
  };
}
