// Flow control on real streams: AIMD read sizing, the rate limiter, and backpressure from a store near
// its memory limit. The read sizes are observed by wrapping the real peer connection (it still talks
// to the real Redis); nothing here measures speed.
import { describe, expect, it } from 'vitest';
import type { PeerConfig } from '../../../src/config/types.js';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { RedisPeerConnection } from '../../../src/peer/redis-peer-connection.js';
import { Mesh, metricValue } from '../../support/mesh.js';
import { waitFor } from '../../support/wait.js';
import { useMesh } from '../../support/use-mesh.js';

/** A real peer connection that records the COUNT of every XREAD. */
function recordingConnection(peer: PeerConfig, counts: number[]): PeerConnection {
  const real = new RedisPeerConnection({ peerId: peer.node_id, prefix: peer.redis_prefix, endpoint: { redis_url: peer.redis_url } });
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'read') {
        return (cursor: string, count: number, blockMs: number) => {
          counts.push(count);
          return target.read(cursor, count, blockMs);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function preload(mesh: Mesh, n: number, label: string): Promise<void> {
  const store = mesh.node(0).store;
  for (let k = 0; k < n; k += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - k) }, (_, j) => store.put(`${label}/${k + j}`, Buffer.from(`v${k + j}`))));
  }
}

describe('hot path: adaptive batch size (AIMD)', () => {
  const mesh = useMesh({
      nodes: 2,
      start: false,
      settings: { hot_path: { adaptive_batch_size: true, batch_size: 50, min_batch_size: 50, max_batch_size: 400, block_timeout: '50ms' } },
    });

  it('grows under a backlog and shrinks back to the minimum when idle, always within bounds', async () => {
    await preload(mesh(), 3000, 'backlog');
    const counts: number[] = [];
    const node1 = mesh().node(1);
    node1.engine = new ReplicationEngine(node1.config, { store: node1.store, connectPeer: (p) => recordingConnection(p, counts) });
    await node1.engine.start();
    await waitFor(async () => (await node1.store.keyCount()) === 3000, { what: 'backlog applied', timeoutMs: 30_000 });
    expect(Math.max(...counts)).toBe(400);
    // Idle now: every empty read shrinks the size by the step until it rests at the minimum.
    await waitFor(() => counts.length > 0 && counts[counts.length - 1] === 50, { what: 'read size back at min_batch_size' });
    expect(counts.every((c) => c >= 50 && c <= 400)).toBe(true);
    expect(counts[0]).toBe(50);
  });
});

describe('hot path: rate limit', () => {
  const mesh = useMesh({
      nodes: 2,
      start: false,
      settings: { hot_path: { rate_limit_enabled: true, rate_limit_per_sec: 2000, rate_limit_burst: 100, batch_size: 100 } },
    });

  it('never applies faster than the configured rate after the burst, and applies everything', async () => {
    await preload(mesh(), 1000, 'limited');
    const node1 = mesh().node(1);
    const started = Date.now();
    await node1.engine.start();
    await waitFor(async () => (await node1.store.keyCount()) === 1000, { what: 'all applied', timeoutMs: 30_000 });
    // A token bucket of 100 at 2000/s needs at least (1000 - 100) / 2000 s = 450 ms for 1000 entries:
    // a lower bound the limiter guarantees, not a speed measurement.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(await metricValue(node1.engine, 'replication_rate_limit_waits_total', { peer_id: 'node-0' })).toBeGreaterThan(0);
  });
});

describe('hot path: backpressure', () => {
  const mesh = useMesh({
      nodes: 2,
      redis: { maxmemory: 32 * 1024 * 1024 },
      store: { memory_threshold: 0.5, memory_poll_interval: '100ms' },
      storeOptions: { memoryThreshold: 0.5, memoryPollIntervalMs: 100 },
    });

  it('pauses reading while the local store refuses writes and resumes after', async () => {
    const node1 = mesh().node(1);
    // Fill node-1's Redis past half of maxmemory but well below it, so Redis itself still answers. In 1 MiB
    // values: one huge SET would count its own query buffer against maxmemory and be refused.
    const filler = Array.from({ length: 20 }, (_, i) => `filler:${i}`);
    for (const key of filler) await node1.store.client.set(key, Buffer.alloc(1024 * 1024, 1));
    await waitFor(async () => !(await node1.store.shouldAcceptWrites()), { what: 'node-1 store refusing writes' });
    await waitFor(() => node1.engine.status().peers[0]!.paused === 'backpressure', { what: 'node-1 hot path paused' });
    expect(await metricValue(node1.engine, 'replication_backpressure_pauses_total', { peer_id: 'node-0' })).toBeGreaterThanOrEqual(1);

    await mesh().node(0).store.put('during-pressure', Buffer.from('waits'));
    // Still paused: node-1 has not read it. (The read is gated, so this cannot race.)
    expect(node1.engine.status().peers[0]!.paused).toBe('backpressure');
    expect(await node1.store.get('during-pressure')).toBeNull();

    await node1.store.client.del(...filler);
    const rec = await waitFor(() => node1.store.get('during-pressure'), { what: 'during-pressure on node-1 after relief' });
    expect(rec.content.toString()).toBe('waits');
    expect(node1.engine.status().peers[0]!.paused).toBeNull();
  });
});
