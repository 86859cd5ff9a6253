/**
 * The central promise of docs/architecture.md on real Redis: the same set of changes, applied in any order
 * and with duplicates, leaves two stores with identical records and identical Merkle roots,
 * equal to the pure LWW model — whose root is computed from scratch, so this also proves
 * the incremental XOR tree.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { useRedis } from '../../support/use-redis.js';
import { LwwModel } from '../../support/lww-model.js';
import { allLeaves, openStore } from '../../support/store-fixtures.js';
import { delChange, putChange } from '../../support/changes.js';
import type { Change } from '../../../src/model/change.js';
import type { RedisStore } from '../../../src/store/redis-store.js';

const redis = useRedis();

// Few keys, few clock values and origins: equal stamps, concurrent writes and duplicates are
// common. A stamp identifies one change (an origin never issues the same HLC twice), so the
// op and content are derived from (key, hlc, origin).
const changeArb: fc.Arbitrary<Change> = fc
  .record({
    key: fc.constantFrom('a', 'b', 'c', 'ключ', '🔑'),
    ms: fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_003 }),
    origin: fc.constantFrom('node-a', 'node-b', 'node-c'),
  })
  .map(({ key, ms, origin }) => {
    const del = (key.length + ms + origin.charCodeAt(5)) % 3 === 0;
    return del ? delChange(key, ms, origin) : putChange(key, `${key}@${origin}@${ms}`, ms, origin);
  });

async function recordsOf(store: RedisStore, keys: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const r = await store.get(k);
    out[k] = r && { content: r.content.toString('hex'), hash: r.hash, hlc: r.hlc, origin: r.origin };
  }
  return out;
}

describe('LWW apply on real stores (property)', () => {
  it('any order, any batching, with duplicates → identical records and roots, equal to the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(changeArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 7 }),
        fc.func(fc.integer()),
        async (changes, batch, shuffleKey) => {
          const [s1, s2] = await Promise.all([openStore(redis().url, { nodeId: 'store-1' }), openStore(redis().url, { nodeId: 'store-2' })]);
          try {
            // Store 1: in order, one at a time. Store 2: shuffled, duplicated, batched.
            for (const c of changes) await s1.applyChanges([c]);
            const shuffled = [...changes, ...changes.slice(0, 3)]
              .map((c, i) => ({ c, k: shuffleKey(i) }))
              .sort((a, b) => a.k - b.k)
              .map((x) => x.c);
            for (let i = 0; i < shuffled.length; i += batch) await s2.applyChanges(shuffled.slice(i, i + batch));

            const model = new LwwModel().applyAll(changes);
            const keys = ['a', 'b', 'c', 'ключ', '🔑'];
            const expected: Record<string, unknown> = {};
            for (const k of keys) {
              const w = model.winners.get(k);
              expected[k] = w && w.op === 'PUT' ? { content: w.content.toString('hex'), hash: w.hash, hlc: w.hlc, origin: w.origin } : null;
            }
            expect(await recordsOf(s1, keys)).toEqual(expected);
            expect(await recordsOf(s2, keys)).toEqual(expected);
            expect(await s1.merkleRoot()).toBe(model.root());
            expect(await s2.merkleRoot()).toBe(model.root());
            expect(Object.fromEntries(await allLeaves(s2))).toEqual(Object.fromEntries(model.leaves()));
            expect(await s2.keyCount()).toBe(model.live().size);
          } finally {
            await Promise.all([s1.close(), s2.close()]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
