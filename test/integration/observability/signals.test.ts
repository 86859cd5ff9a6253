// What the engine reports about its peers: latency of every peer call, each SLO warning, and the
// trace spans of applied changes.
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import { captureLogs, WARN } from '../../support/log-capture.js';
import { Mesh, metricValue } from '../../support/mesh.js';
import { RecordingTracerProvider } from '../../support/recording-tracer.js';
import { waitFor } from '../../support/wait.js';
import { useMesh } from '../../support/use-mesh.js';

async function histogramCount(engine: ReplicationEngine, name: string, peerId: string): Promise<number> {
  const metric = engine.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = (await metric.get()) as { values: { value: number; labels: Record<string, unknown>; metricName?: string }[] };
  return values.filter((v) => v.metricName === `${name}_count` && v.labels.peer_id === peerId).reduce((sum, v) => sum + v.value, 0);
}

async function preload(mesh: Mesh, n: number, label: string): Promise<void> {
  const store = mesh.node(0).store;
  for (let k = 0; k < n; k += 50) {
    await Promise.all(Array.from({ length: Math.min(50, n - k) }, (_, j) => store.put(`${label}/${k + j}`, Buffer.from(`v${k + j}`))));
  }
}

describe('peer latency: every call to the peer, not only pings', () => {
  const mesh = useMesh({
      nodes: 2,
      start: false,
      // No pings at all: whatever reaches the histogram comes from the hot and cold paths.
      settings: { peer_health: { enabled: false }, hot_path: { batch_size: 50, adaptive_batch_size: false } },
    });

  it('counts the full XREADs of a backlog, then the cold path reads', async () => {
    await preload(mesh(), 500, 'backlog');
    const engine = mesh().node(1).engine;
    await engine.start();
    await waitFor(async () => (await mesh().node(1).store.keyCount()) === 500, { what: 'backlog applied', timeoutMs: 30_000 });
    // 500 entries in reads of 50: ten full reads, each a round trip Redis answered at once.
    const afterHotPath = await histogramCount(engine, 'replication_peer_latency_seconds', 'node-0');
    expect(afterHotPath).toBeGreaterThanOrEqual(10);

    await waitFor(() => !engine.status().peers[0]!.catching_up, { what: 'hot path at the head' });
    const [outcome] = await engine.repairNow('node-0');
    expect(outcome?.result).toBe('in_sync');
    // At least the peer's tree format and root.
    expect(await histogramCount(engine, 'replication_peer_latency_seconds', 'node-0')).toBeGreaterThanOrEqual(afterHotPath + 2);
  });
});

describe('SLO warnings', () => {
  let mesh: Mesh;
  const logs = captureLogs('warn');
  // A clock that moves at least 1 ms between two readings: every duration the engine measures
  // with it is above the tiny thresholds below, whatever the machine's speed.
  let last = 0;
  const now = (): number => (last = Math.max(Date.now(), last + 1));
  beforeAll(async () => {
    mesh = await Mesh.start({
      nodes: 2,
      start: false,
      engineDeps: { now, logger: logs.logger },
      settings: {
        hot_path: { batch_size: 50, adaptive_batch_size: false },
        peer_health: { enabled: false },
        slo: { max_stream_read_latency_ms: 0.001, max_peer_op_latency_ms: 0.001, max_batch_flush_latency_ms: 0.001, max_replication_lag_sec: 0.000001 },
      },
    });
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('counts and logs a breach of each SLO, naming the peer', async () => {
    await preload(mesh, 100, 'first');
    // The backlog spans at least 2 ms of stream ids, so its lag is above 1 µs.
    const t = Date.now();
    await waitFor(() => Date.now() >= t + 2, { what: 'the clock to move on' });
    await preload(mesh, 100, 'second');
    const engine = mesh.node(1).engine;
    await engine.start();
    await waitFor(async () => (await mesh.node(1).store.keyCount()) === 200, { what: 'backlog applied', timeoutMs: 30_000 });
    for (const slo of ['stream_read_latency', 'peer_op_latency', 'batch_flush_latency', 'replication_lag']) {
      await waitFor(async () => (await metricValue(engine, 'replication_slo_violations_total', { peer_id: 'node-0', slo })) > 0, { what: `${slo} counted` });
      const warned = logs.find(`SLO exceeded: ${slo}`, { peer_id: 'node-0', slo });
      expect(warned.length, slo).toBeGreaterThan(0);
      expect(warned[0]!.level).toBe(WARN);
    }
  });
});

describe('trace context', () => {
  let mesh: Mesh;
  const provider = new RecordingTracerProvider();
  beforeAll(async () => {
    trace.setGlobalTracerProvider(provider);
    mesh = await Mesh.start({ nodes: 2 });
  });
  afterAll(async () => {
    await mesh?.stop();
    trace.disable();
  });

  it("applies a change in a span whose parent is the change's traceparent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const spanId = '00f067aa0ba902b7';
    await mesh.node(0).store.put('traced', Buffer.from('t'), { traceParent: `00-${traceId}-${spanId}-01` });
    await mesh.node(0).store.put('untraced', Buffer.from('u'));
    await waitFor(() => mesh.node(1).store.get('untraced'), { what: 'both changes on node-1' });
    await waitFor(() => provider.spans.some((s) => s.ended), { what: 'the apply span ended' });

    const spans = provider.spans.filter((s) => s.name === 'replication.apply');
    expect(spans).toHaveLength(1); // the change without a traceparent has none
    const [span] = spans;
    expect(span!.parent).toMatchObject({ traceId, spanId, isRemote: true });
    expect(span!.context.traceId).toBe(traceId);
    expect(span!.attributes).toMatchObject({ 'replication.peer_id': 'node-0', 'replication.key': 'traced', 'replication.outcome': 'applied' });
  });
});
