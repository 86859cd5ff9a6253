// planPeers: what a new configuration does to the running peers (pure; no Redis, no engine).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PeerConfig } from '../../../src/config/types.js';
import { peerNeedsReconnect, planPeers } from '../../../src/engine/peer-plan.js';

function peer(nodeId: string, over: Partial<PeerConfig> = {}): PeerConfig {
  return {
    node_id: nodeId, redis_url: `redis://${nodeId}:6379`, redis_prefix: '', priority: 0,
    circuit_failure_threshold: 5, circuit_reset_timeout_sec: 30, ...over,
  };
}

const running = (...peers: PeerConfig[]) => new Map(peers.map((p) => [p.node_id, p]));

describe('planPeers', () => {
  it('nothing changes when the configuration is the same', () => {
    const a = peer('a');
    const b = peer('b');
    expect(planPeers(running(a, b), [a, b])).toEqual({ removed: [], reconnected: [], kept: [a, b], started: [] });
  });

  it('removes peers no longer configured and starts new ones in configuration order', () => {
    const plan = planPeers(running(peer('a'), peer('b')), [peer('d'), peer('b'), peer('c')]);
    expect(plan).toEqual({ removed: ['a'], reconnected: [], kept: [peer('b')], started: [peer('d'), peer('c')] });
  });

  it('a change of connection settings reconnects the peer (stopped, then started again); other fields apply live', () => {
    const plan = planPeers(running(peer('a'), peer('b'), peer('c')), [
      peer('a', { redis_url: 'redis://elsewhere:6380' }),
      peer('b', { priority: 7 }),
      peer('c', { circuit_reset_timeout_sec: 5 }),
    ]);
    expect(plan.removed).toEqual([]);
    expect(plan.reconnected).toEqual(['a', 'c']);
    expect(plan.kept).toEqual([peer('b', { priority: 7 })]);
    expect(plan.started).toEqual([peer('a', { redis_url: 'redis://elsewhere:6380' }), peer('c', { circuit_reset_timeout_sec: 5 })]);
  });

  it('connection fields need a reconnect; priority does not', () => {
    const base = peer('a');
    for (const over of [
      { redis_url: 'redis://x:1' }, { redis_prefix: 'p:' }, { username: 'u' }, { password: 'secret-password' },
      { tls: { reject_unauthorized: false } }, { circuit_failure_threshold: 9 }, { circuit_reset_timeout_sec: 1 },
    ] as Partial<PeerConfig>[]) {
      expect(peerNeedsReconnect(base, peer('a', over))).toBe(true);
    }
    expect(peerNeedsReconnect(base, peer('a', { priority: 3 }))).toBe(false);
    expect(peerNeedsReconnect(base, peer('a'))).toBe(false);
  });

  it('for any configurations: every running peer is removed, reconnected or kept, and after the plan exactly the next peers run', () => {
    const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    const config = fc.record({ url: fc.constantFrom('redis://h:1', 'redis://h:2'), priority: fc.integer({ min: 0, max: 3 }) });
    const peers = fc.uniqueArray(fc.tuple(ids, config), { selector: ([id]) => id, maxLength: 5 })
      .map((list) => list.map(([id, c]) => peer(id, { redis_url: c.url, priority: c.priority })));
    fc.assert(fc.property(peers, peers, (current, next) => {
      const plan = planPeers(running(...current), next);
      const kept = plan.kept.map((p) => p.node_id);
      expect([...plan.removed, ...plan.reconnected, ...kept].sort()).toEqual(current.map((p) => p.node_id).sort());
      const after = new Set([...kept, ...plan.started.map((p) => p.node_id)]);
      expect([...after].sort()).toEqual(next.map((p) => p.node_id).sort());
      expect(after.size).toBe(kept.length + plan.started.length);
      for (const id of plan.removed) expect(next.some((p) => p.node_id === id)).toBe(false);
    }));
  });
});
