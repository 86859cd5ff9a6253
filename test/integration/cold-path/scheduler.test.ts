/**
 * ColdPathScheduler with real stores on a real redis-server: a requested repair against a stale
 * cached root, and the budget carried across cycles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { useRedis } from '../../support/use-redis.js';
import { openStore } from '../../support/store-fixtures.js';
import { putChange } from '../../support/changes.js';
import { BASE, count, peer, results, scheduler } from '../../support/scheduler-fixtures.js';
import { RedisStoreReader } from '../../../src/store/store-reader.js';
import type { RedisStore } from '../../../src/store/redis-store.js';
import type { StoreReader } from '../../../src/store/local-store.js';

describe('ColdPathScheduler with real stores', () => {
  const server = useRedis();
  let client: Redis;
  beforeAll(() => {
    client = new Redis(server().url);
  });
  afterAll(() => {
    client?.disconnect();
  });

  async function pair(): Promise<{ a: RedisStore; b: RedisStore; bReader: StoreReader; close: () => Promise<void> }> {
    const [a, b] = await Promise.all([openStore(server().url, { nodeId: 'london' }), openStore(server().url, { nodeId: 'paris' })]);
    return { a, b, bReader: new RedisStoreReader(client, b.keys.prefix), close: async () => void (await Promise.all([a.close(), b.close()])) };
  }

  it('requestRepair runs at once, ignoring the interval, catching-up and a stale cached peer root', async () => {
    const { a, b, bReader, close } = await pair();
    try {
      const { s, clock } = scheduler(a, { settings: { interval_sec: 3600 } });
      const p = peer('paris', bReader, 0);
      s.setPeers([p]);
      s.start();
      expect(results(await s.repairNow())).toEqual(['paris:in_sync']); // caches paris's root
      await b.put('late', Buffer.from('written after the check'));
      // Within the cache's 5 s a scheduled check trusts the cached root: acceptable for a periodic check...
      expect(results(await s.repairNow())).toEqual(['paris:in_sync']);
      // ...but a gap-triggered repair reads the peer fresh, even while the hot path is catching up.
      p.hooks.catchingUp = true;
      const r = await s.requestRepair('paris', 'trimmed');
      expect(r).toMatchObject({ result: 'repaired', requested: true, outcome: { fetched: 1, applied: 1 } });
      expect((await a.get('late'))?.content.toString()).toBe('written after the check');
      expect(results(await s.repairNow())).toEqual(['paris:skipped:catching_up']);
      p.hooks.catchingUp = false;
      clock.ms += 5_000;
      expect(results(await s.repairNow())).toEqual(['paris:in_sync']);
      expect(s.lastRepair('paris')).toMatchObject({ result: 'in_sync', items: 0 });
      await s.stop();
    } finally {
      await close();
    }
  });

  it('carries the budget: each cycle takes at most max_items_per_cycle, the next resumes, all keys arrive once', async () => {
    const { a, b, bReader, close } = await pair();
    try {
      const keys = Array.from({ length: 17 }, (_, i) => `key/${i}`);
      await b.applyChanges(keys.map((k, i) => putChange(k, `v${i}`, BASE + i, 'paris')));
      const { s, metrics } = scheduler(a, { settings: { max_items_per_cycle: 5 } });
      s.setPeers([peer('paris', bReader)]);
      const seen: string[] = [];
      const trail: string[] = [];
      for (let i = 0; i < 5; i++) {
        const [r] = await s.repairNow();
        if (!r || r.result === 'skipped' || !r.outcome) throw new Error('expected a repair');
        trail.push(`${r.result}:${r.outcome.applied}`);
        seen.push(...r.outcome.report!.keys.filter((k) => k.winner === 'peer').map((k) => k.key));
        if (r.result === 'repaired') break;
      }
      expect(trail).toEqual(['partial:5', 'partial:5', 'partial:5', 'repaired:2']);
      expect(seen.sort()).toEqual([...keys].sort());
      expect(await count(metrics.repairItemsSubmitted, { peer_id: 'paris' })).toBe(17);
      expect(await a.merkleRoot()).toBe(await b.merkleRoot());
    } finally {
      await close();
    }
  });
});
