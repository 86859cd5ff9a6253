// The hot path while it is held back: lag stays true while reads are paused (backpressure, an open
// circuit), and a rate-limit wait gives way to a stop or a reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import { captureLogs } from '../../support/log-capture.js';
import { Mesh, metricValue } from '../../support/mesh.js';
import { waitFor } from '../../support/wait.js';
import { useProxiedPair } from '../../support/use-mesh.js';
import { useMesh } from '../../support/use-mesh.js';

const lagGauge = (mesh: Mesh): Promise<number> => metricValue(mesh.node(1).engine, 'replication_lag_ms', { peer_id: 'node-0' });

describe('lag while paused by backpressure', () => {
  const mesh = useMesh({
      nodes: 2,
      redis: { maxmemory: 32 * 1024 * 1024 },
      store: { memory_threshold: 0.5, memory_poll_interval: '100ms' },
      storeOptions: { memoryThreshold: 0.5, memoryPollIntervalMs: 100 },
      settings: { slo: { max_replication_lag_sec: 0.05 } },
    });

  it('keeps measuring the lag (gauge, status and SLO) while reads are paused', async () => {
    const node1 = mesh().node(1);
    await mesh().node(0).store.put('before', Buffer.from('b'));
    await waitFor(() => node1.store.get('before'), { what: 'before on node-1' });
    await waitFor(async () => node1.engine.status().peers[0]!.lag_ms === 0 && (await lagGauge(mesh())) === 0, { what: 'no lag' });

    const filler = Array.from({ length: 20 }, (_, i) => `filler:${i}`);
    for (const key of filler) await node1.store.client.set(key, Buffer.alloc(1024 * 1024, 1));
    await waitFor(() => node1.engine.status().peers[0]!.paused === 'backpressure', { what: 'node-1 hot path paused' });
    const violationsBefore = await metricValue(node1.engine, 'replication_slo_violations_total', { peer_id: 'node-0', slo: 'replication_lag' });

    // Written at least 100 ms after 'before' (the pause took a memory poll): that much lag, unread.
    await mesh().node(0).store.put('during', Buffer.from('d'));
    // Above the 50 ms lag SLO, so the SLO is breached while paused too.
    await waitFor(async () => (await lagGauge(mesh())) > 50, { what: 'lag gauge up while paused' });
    expect(node1.engine.status().peers[0]!.lag_ms).toBeGreaterThan(50);
    expect(node1.engine.status().peers[0]!.paused).toBe('backpressure');
    expect(await node1.store.get('during')).toBeNull();
    expect(await metricValue(node1.engine, 'replication_slo_violations_total', { peer_id: 'node-0', slo: 'replication_lag' }))
      .toBeGreaterThan(violationsBefore);

    await node1.store.client.del(...filler);
    await waitFor(() => node1.store.get('during'), { what: 'during on node-1 after relief' });
    await waitFor(async () => (await lagGauge(mesh())) === 0, { what: 'lag back to 0' });
  });
});

describe('lag while the circuit is open', () => {
  const pair = useProxiedPair({ settings: { peer_health: { enabled: false } } });

  it('grows with the time the peer has been unreachable, and is measured again once it is back', async () => {
    const mesh = pair.mesh();
    const proxy = pair.proxy();
    const node1 = mesh.node(1);
    await mesh.node(0).store.put('before', Buffer.from('b'));
    await waitFor(() => node1.store.get('before'), { what: 'before on node-1' });
    await waitFor(async () => (await lagGauge(mesh)) === 0, { what: 'no lag' });

    proxy.setMode('refuse');
    proxy.cutConnections();
    await waitFor(() => node1.engine.status().peers[0]!.circuit === 'open', { what: 'circuit open' });
    // Nothing can be read from the peer: the lag is an upper bound that grows with the outage.
    await waitFor(async () => (await lagGauge(mesh)) >= 500, { what: 'lag gauge growing while unreachable' });
    expect(node1.engine.status().peers[0]!.lag_ms).toBeGreaterThanOrEqual(500);

    proxy.setMode('pass');
    await waitFor(async () => (await lagGauge(mesh)) === 0, { what: 'lag measured again: 0' });
  });
});

describe('rate-limit waits', () => {
  let mesh: Mesh;
  const logs = captureLogs('info');
  // One token per 1000 s: the second read of the backlog waits "forever".
  const slow = { rate_limit_enabled: true, rate_limit_per_sec: 0.001, rate_limit_burst: 1, batch_size: 10 };
  beforeAll(async () => {
    mesh = await Mesh.start({ nodes: 2, start: false, engineDeps: { logger: logs.logger }, settings: { hot_path: slow } });
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  const waits = (): Promise<number> => metricValue(mesh.node(1).engine, 'replication_rate_limit_waits_total', { peer_id: 'node-0' });

  it('a reload that raises the rate ends the wait at once', async () => {
    for (let k = 0; k < 20; k++) await mesh.node(0).store.put(`r/${k}`, Buffer.from('x'));
    const node1 = mesh.node(1);
    await node1.engine.start();
    await waitFor(async () => (await waits()) >= 1, { what: 'a rate-limit wait' });
    expect(await node1.store.keyCount()).toBeLessThan(20);

    const fast = { ...node1.config, settings: { ...node1.config.settings, hot_path: { ...node1.config.settings.hot_path, rate_limit_per_sec: 100_000, rate_limit_burst: 1000 } } };
    await node1.engine.updateConfig(fast);
    await waitFor(async () => (await node1.store.keyCount()) === 20, { what: 'everything applied after the reload' });
  });

  it('a stop ends the wait without the shutdown deadline, and the waiting batch is read again on restart', async () => {
    const node1 = mesh.node(1);
    await node1.engine.updateConfig(node1.config); // back to one token per 1000 s (a fresh, full bucket)
    const before = await waits();
    for (let k = 0; k < 3; k++) await mesh.node(0).store.put(`s/${k}`, Buffer.from('y'));
    await waitFor(async () => (await waits()) > before, { what: 'a rate-limit wait' });

    await node1.engine.shutdown();
    expect(logs.find('shutdown deadline passed')).toEqual([]);
    const applied = (await Promise.all([0, 1, 2].map((k) => node1.store.get(`s/${k}`)))).filter((r) => r !== null).length;
    expect(applied).toBeLessThan(3);

    // Not dispatched, so not lost: the cursor is still before it.
    const fast = { ...node1.config, settings: { ...node1.config.settings, hot_path: { ...node1.config.settings.hot_path, rate_limit_enabled: false } } };
    node1.engine = new ReplicationEngine(fast, { store: node1.store, logger: logs.logger });
    await node1.engine.start();
    await waitFor(async () => (await Promise.all([0, 1, 2].map((k) => node1.store.get(`s/${k}`)))).every((r) => r !== null), {
      what: 'the waiting batch applied after the restart',
    });
  });
});
