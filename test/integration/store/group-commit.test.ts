// Local writes under concurrency (store/group-commit.ts, commands/write.lua): many puts and deletes share
// script calls, each acknowledged only once Redis has it, in submission order per key, one bad write
// failing alone.
import { describe, expect, it } from 'vitest';
import { useRedis, useRedisClient } from '../../support/use-redis.js';
import { allLeaves, openStore } from '../../support/store-fixtures.js';
import { putChange } from '../../support/changes.js';
import { leafFor } from '../../support/leaf.js';
import { bucketOf, rootOf } from '../../../src/merkle/tree-shape.js';
import { HLC_MAX, HLC_MAX_PHYSICAL_MS, hlcPhysicalMs } from '../../../src/model/hlc.js';
import { decodeCdcEntry } from '../../../src/cdc/codec.js';

const redis = useRedis();
const raw = useRedisClient(redis);

async function evalshaCalls(): Promise<number> {
  const stats = await raw().info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('group commit of local writes', () => {
  it('coalesces concurrent writes into fewer script calls, keeping each key\'s writes in order', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      await store.put('warm-up', Buffer.from('x')); // the script is loaded: every later call is one EVALSHA
      const before = await evalshaCalls();
      // 300 writes at once: 30 keys, each put 9 times then deleted, interleaved.
      const writes: Promise<{ key: string; hlc: string; step: number }>[] = [];
      for (let step = 0; step < 10; step++) {
        for (let k = 0; k < 30; k++) {
          const key = `k/${k}`;
          writes.push(step < 9
            ? store.put(key, Buffer.from(`${key}@${step}`)).then((w) => ({ key, hlc: w.hlc, step }))
            : store.delete(key).then((d) => ({ key, hlc: d.hlc, step })));
        }
      }
      const done = await Promise.all(writes);
      const calls = (await evalshaCalls()) - before;
      expect(calls).toBeGreaterThan(0);
      expect(calls).toBeLessThan(300 / 4);

      // Per key, the stamps grow in submission order and the last write (the delete) won.
      for (let k = 0; k < 30; k++) {
        const mine = done.filter((w) => w.key === `k/${k}`).sort((a, b) => a.step - b.step);
        for (let i = 1; i < mine.length; i++) expect(mine[i]!.hlc > mine[i - 1]!.hlc).toBe(true);
        expect(await store.get(`k/${k}`)).toBeNull();
      }
      // Versions count the puts; the stream holds every write once, in stamp order per key.
      await store.put('k/0', Buffer.from('again'));
      expect((await store.get('k/0'))?.version).toBe(10);
      const entries = (await raw().xrangeBuffer(store.keys.stream, '-', '+')).map(([id, f]) => decodeCdcEntry(id.toString(), f, { peerNodeId: 'x' }));
      expect(entries.filter((e) => e.key.startsWith('k/'))).toHaveLength(301);
      // The tree is the XOR of its leaves: no write's digest was lost in a group.
      expect(await store.merkleRoot()).toBe(rootOf(await allLeaves(store)));
    } finally {
      await store.close();
    }
  });

  it('fails one write alone: the others of its call are made, it changes nothing', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      // A record holding the greatest stamp there is (left by an older version): it cannot be overwritten.
      const stuck = putChange('stuck', 'old', HLC_MAX_PHYSICAL_MS, 'peer', { hlc: HLC_MAX });
      const leaves = store.keys.leaves(bucketOf('stuck'));
      await raw().hset(leaves, 'stuck', await leafFor(raw(), store.keys, stuck));
      const leafBefore = await raw().hgetBuffer(leaves, 'stuck');
      // Hold the connection busy so that the three writes queue and go as one call.
      const busy = store.put('busy', Buffer.from('b'));
      const [a, bad, b] = await Promise.allSettled([
        store.put('a', Buffer.from('a')), store.put('stuck', Buffer.from('new')), store.put('b', Buffer.from('b')),
      ]);
      await busy;
      expect(a.status).toBe('fulfilled');
      expect(b.status).toBe('fulfilled');
      expect(bad.status).toBe('rejected');
      expect(bad.status === 'rejected' && String(bad.reason)).toMatch(/the record stuck holds the greatest stamp there is/);
      expect(await raw().hgetBuffer(leaves, 'stuck')).toEqual(leafBefore);
      expect(await raw().exists(store.keys.record('stuck'))).toBe(0);
      expect((await store.get('a'))?.content.toString()).toBe('a');
      expect((await store.get('b'))?.content.toString()).toBe('b');
    } finally {
      await store.close();
    }
  });

  it('loses no acknowledged write when the connection drops under a queue of groups, and tears no tree', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      await store.put('warm-up', Buffer.from('x'));
      const writes = Array.from({ length: 400 }, (_, i) => store.put(`drop/${i % 50}`, Buffer.from(`v${i}`)).then(
        (w) => ({ ok: true as const, key: w.key, hlc: w.hlc, hash: w.hash }),
        (err: Error & { code?: string }) => ({ ok: false as const, code: err.code }),
      ));
      // Every client connection of the store's name is killed while groups are queued and in flight.
      await raw().call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      const settled = await Promise.all(writes);
      const failed = settled.filter((s) => !s.ok);
      for (const f of failed) expect(f.code).toBe('store_connection_lost');
      // The last acknowledged write of each key is what the store holds (stamps grow per key in order).
      const last = new Map<string, { hlc: string; hash: string }>();
      for (const s of settled) if (s.ok) last.set(s.key, s);
      for (const [key, w] of last) {
        const got = await store.get(key);
        expect(got === null ? null : got.hlc >= w.hlc).toBe(true);
      }
      expect(await store.merkleRoot()).toBe(rootOf(await allLeaves(store)));
      // And the store writes again once reconnected.
      expect((await store.put('after-drop', Buffer.from('ok'))).version).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('keeps the highest stamp it reports within the bound, as its clock, when a write overwrites a key stamped far ahead', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      const y2100 = Date.UTC(2100, 0, 1);
      await raw().hset(store.keys.leaves(bucketOf('ahead')), 'ahead', await leafFor(raw(), store.keys, putChange('ahead', 'old', y2100, 'peer')));
      await store.put('ordinary', Buffer.from('x'));
      const w = await store.put('ahead', Buffer.from('new'));
      expect(hlcPhysicalMs(w.hlc)).toBeGreaterThanOrEqual(y2100); // it must beat the old stamp
      expect(hlcPhysicalMs(store.highestStamp()!)).toBeLessThan(y2100);
      expect(hlcPhysicalMs((await store.lastHlc())!)).toBeLessThan(y2100);
    } finally {
      await store.close();
    }
  });
});
