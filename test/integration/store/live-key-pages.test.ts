/**
 * The paged live-key index (commands/includes/indexes.lua, docs/wire-format.md): whatever the
 * order of puts and deletes, listing gives exactly the live keys in byte order, the count is
 * theirs, every page stays within its bounds (so Redis keeps it a listpack) and the page list
 * names only pages that exist.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { useRedis, useRedisClient } from '../../support/use-redis.js';
import { openStore } from '../../support/store-fixtures.js';
import type { RedisStore } from '../../../src/store/redis-store.js';
import { delChange, putChange } from '../../support/changes.js';

const redis = useRedis();
const raw = useRedisClient(redis);
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function listAll(store: RedisStore, prefix: string, limit: number): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.scan({ prefix, cursor, limit });
    out.push(...page.items.map((r) => r.key));
    cursor = page.cursor;
  } while (cursor);
  return out;
}

async function expectPagesSound(store: RedisStore): Promise<void> {
  const firsts = ['', ...(await raw().zrange(store.keys.pageIndex, 0, -1))];
  let total = 0;
  for (const [i, first] of firsts.entries()) {
    const page = store.keys.page(first);
    const n = await raw().zcard(page);
    if (first !== '') {
      expect(n).toBeGreaterThan(0); // no empty page is listed
      expect(n).toBeLessThanOrEqual(128);
      expect({ page: first, keys: n, encoding: await raw().object('ENCODING', page) }).toEqual({ page: first, keys: n, encoding: 'listpack' });
    }
    const members = await raw().zrange(page, 0, -1);
    // Every member belongs to its page's range: from its first key up to the next page's.
    const next = firsts[i + 1];
    for (const m of members) {
      expect(byBytes(m, first)).toBeGreaterThanOrEqual(0);
      if (next !== undefined) expect(byBytes(m, next)).toBeLessThan(0);
    }
    total += n;
  }
  expect(total).toBe(await store.keyCount());
}

describe('paged live-key index', () => {
  it('lists exactly the live keys in byte order, through splits and merges, in batches and one by one', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1499 }), fc.boolean()), { minLength: 1, maxLength: 1500, size: 'max' }),
      fc.integer({ min: 20, max: 600 }),
      async (ops, batch) => {
        const store = await openStore(redis().url, { nodeId: 'n' });
        try {
          const live = new Set<string>();
          let t = 1_700_000_000_000;
          const changes = ops.map(([i, put]) => {
            const key = `${i % 3 === 0 ? 'a' : 'b'}/${String(i).padStart(4, '0')}`;
            if (put) live.add(key);
            else live.delete(key);
            return put ? putChange(key, 'x', ++t, 'peer') : delChange(key, ++t, 'peer');
          });
          for (let i = 0; i < changes.length; i += batch) await store.applyChanges(changes.slice(i, i + batch));
          const expected = [...live].sort(byBytes);
          expect(await store.keyCount()).toBe(expected.length);
          expect(await listAll(store, '', 250)).toEqual(expected);
          expect(await listAll(store, 'a/', 33)).toEqual(expected.filter((k) => k.startsWith('a/')));
          await expectPagesSound(store);
        } finally {
          await store.close();
        }
      },
      // No shrinking: a counterexample of a thousand operations shrinks for minutes. PAGES_RUNS=200 for a longer hunt.
    ), { numRuns: Number(process.env.PAGES_RUNS ?? 25), endOnFailure: true });
  });

  it('keeps local writes and deletes in the index as replicated ones', async () => {
    const store = await openStore(redis().url, { nodeId: 'n' });
    try {
      await Promise.all(Array.from({ length: 500 }, (_, i) => store.put(`k/${i}`, Buffer.from('v'))));
      await Promise.all(Array.from({ length: 250 }, (_, i) => store.delete(`k/${2 * i}`)));
      const expected = Array.from({ length: 250 }, (_, i) => `k/${2 * i + 1}`).sort(byBytes);
      expect(await listAll(store, 'k/', 100)).toEqual(expected);
      await expectPagesSound(store);
    } finally {
      await store.close();
    }
  });
});
