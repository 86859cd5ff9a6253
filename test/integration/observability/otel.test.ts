// OpenTelemetry the standard way: two daemons with OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP
// receiver this test runs on loopback. A traced write on one node must give an HTTP server span there and
// an apply span on the other, both children of the writer's traceparent; GET returns the stored traceparent;
// OTEL_TRACES_EXPORTER=none sends nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DaemonProcess } from '../../support/daemon-process.js';
import { waitFor } from '../../support/wait.js';
import { useRedisServers } from '../../support/use-redis.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
}
interface Received {
  path: string;
  service: string;
  spans: OtlpSpan[];
}

async function otlpReceiver(): Promise<{ url: string; requests: Received[]; close: () => Promise<void> }> {
  const requests: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        requests.push({ path: req.url ?? '', service, spans: rs.scopeSpans.flatMap((s) => s.spans) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const attr = (span: OtlpSpan, key: string): string | number | undefined => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue === undefined ? undefined : Number(v.intValue));
};

describe('OpenTelemetry export over OTLP/HTTP', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-otel-'));
  const servers = useRedisServers(2);
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  const daemons: (DaemonProcess & { url: string })[] = [];
  const ids = ['otel-a', 'otel-b'];

  const writeConfig = (i: number): string => {
    const file = path.join(tmp, `${ids[i]}.yaml`);
    const j = 1 - i;
    writeFileSync(file, stringify({
      replication: {
        local_node_id: ids[i],
        local: { redis_url: servers()[i]!.url, redis_prefix: `${ids[i]}:` },
        http: { listen: '127.0.0.1:0' },
        settings: { hot_path: { block_timeout: '200ms' }, cold_path: { enabled: false } },
        peers: [{ node_id: ids[j], redis_url: servers()[j]!.url, redis_prefix: `${ids[j]}:` }],
        cursor: { sqlite_path: path.join(tmp, `${ids[i]}.db`) },
      },
    }));
    return file;
  };

  beforeAll(async () => {
    receiver = await otlpReceiver();
    const env = (i: number): NodeJS.ProcessEnv => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: `replication-${ids[i]}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    for (const i of [0, 1]) daemons.push(await DaemonProcess.run(writeConfig(i), ['--no-watch'], env(i)));
  });
  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.kill()));
    await receiver?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('exports the HTTP server span and the peer apply span as children of the write traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const traceparent = `00-${traceId}-${parentId}-01`;
    const put = await fetch(`${daemons[1]!.url}/v1/items/order%2F1`, {
      method: 'PUT',
      body: '{"n":1}',
      headers: { 'content-type': 'application/json', traceparent },
    });
    expect(put.status).toBe(200);

    // The stored traceparent comes back on GET, on the writer and on the replica.
    for (const d of [daemons[1]!, daemons[0]!]) {
      const got = await waitFor(async () => {
        const r = await fetch(`${d.url}/v1/items/order%2F1`);
        return r.status === 200 ? r : null;
      }, { what: 'order/1 readable' });
      expect(got.headers.get('traceparent')).toBe(traceparent);
    }

    const spans = (service: string): OtlpSpan[] => receiver.requests.filter((r) => r.service === service).flatMap((r) => r.spans);
    const server = await waitFor(() => spans('replication-otel-b').find((s) => s.name === 'PUT /v1/items/{key}'), { what: 'server span from otel-b' });
    expect(server).toMatchObject({ traceId, parentSpanId: parentId, kind: 2 });
    expect(attr(server, 'http.response.status_code')).toBe(200);
    const apply = await waitFor(() => spans('replication-otel-a').find((s) => s.name === 'replication.apply'), { what: 'apply span from otel-a' });
    expect(apply).toMatchObject({ traceId, parentSpanId: parentId });
    expect(attr(apply, 'replication.peer_id')).toBe('otel-b');
    expect(attr(apply, 'replication.key')).toBe('order/1');
    expect(receiver.requests.every((r) => r.path === '/v1/traces')).toBe(true);
  });

  it('sends nothing with OTEL_TRACES_EXPORTER=none', async () => {
    const quiet = await otlpReceiver();
    const file = path.join(tmp, 'quiet.yaml');
    writeFileSync(file, stringify({
      replication: {
        local_node_id: 'otel-quiet',
        local: { redis_url: servers()[0]!.url, redis_prefix: 'quiet:' },
        http: { listen: '127.0.0.1:0' },
        cursor: { sqlite_path: path.join(tmp, 'quiet.db') },
      },
    }));
    try {
      const d = await DaemonProcess.run(file, ['--no-watch'], { OTEL_EXPORTER_OTLP_ENDPOINT: quiet.url, OTEL_TRACES_EXPORTER: 'none', OTEL_BSP_SCHEDULE_DELAY: '100' });
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b8-01';
      const put = await fetch(`${d.url}/v1/items/quiet`, { method: 'PUT', body: 'x', headers: { 'content-type': 'application/octet-stream', traceparent } });
      expect(put.status).toBe(200);
      expect(d.logs.find((l) => l.msg === 'OpenTelemetry trace export off')).toMatchObject({ reason: 'OTEL_TRACES_EXPORTER=none' });
      d.signal('SIGTERM');
      // A graceful stop flushes whatever an exporter would hold: after it, nothing can still arrive.
      expect(await d.exitCode()).toBe(0);
      expect(quiet.requests).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});
