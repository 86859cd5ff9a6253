// The pure part of the hot path: decode, reject, drop own origin, collapse, flag skew.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCdcEntry } from '../../../src/cdc/codec.js';
import { sha256Hex } from '../../../src/model/content-hash.js';
import { prepareBatch, type PrepareOptions } from '../../../src/hot-path/prepare-batch.js';
import { collapseByKey } from '../../../src/hot-path/collapse.js';
import type { CdcEntry, Change, PutChange } from '../../../src/model/change.js';
import { formatHlc } from '../../../src/model/hlc.js';
import { compareStamps } from '../../../src/model/stamp.js';
import { putChange } from '../../support/changes.js';

const NOW = 1_800_000_000_000;
const opts: PrepareOptions = { peerId: 'peer', localNodeId: 'me', maxPayloadBytes: 1024, maxClockSkewMs: 60_000, maxFutureSkewMs: 300_000, nowMs: NOW };

function put(key: string, ms: number, origin: string, content = `${key}@${ms}`): PutChange {
  return putChange(key, content, ms, origin);
}
const raw = (id: string, c: Change): { id: string; fields: Buffer[] } => ({ id, fields: encodeCdcEntry(c) });

describe('prepareBatch', () => {
  it('drops own-origin entries, collapses repeats to the winner, keeps first-seen key order', () => {
    const batch = prepareBatch([
      raw('1-0', put('a', NOW - 10, 'peer')),
      raw('2-0', put('b', NOW - 9, 'me')),
      raw('3-0', put('a', NOW - 5, 'other')),
      raw('4-0', put('c', NOW - 4, 'peer')),
      raw('5-0', put('a', NOW - 7, 'peer')),
    ], opts);
    expect(batch.ownOrigin).toBe(1);
    expect(batch.collapsed).toBe(2);
    expect(batch.winners.map((w) => [w.key, w.id])).toEqual([['a', '3-0'], ['c', '4-0']]);
    expect(batch.rejected).toEqual([]);
  });

  it('rejects a bad entry alone, with its id and reason, and keeps the rest', () => {
    const bad = encodeCdcEntry(put('x', NOW, 'peer')).map((f, i, all) => (i > 0 && all[i - 1]!.toString() === 'hash' ? Buffer.from('0'.repeat(64)) : f));
    const batch = prepareBatch([raw('1-0', put('a', NOW, 'peer')), { id: '2-0', fields: bad }, raw('3-0', put('b', NOW, 'peer'))], opts);
    expect(batch.rejected).toMatchObject([{ id: '2-0', reason: 'bad_hash' }]);
    expect(batch.winners.map((w) => w.key)).toEqual(['a', 'b']);
  });

  it('skips copies the local store is known to hold, before touching their content', () => {
    const held = put('a', NOW - 5, 'other');
    // A copy of `held` with corrupt content: skipped from its meta alone, so never rejected.
    const corrupt = encodeCdcEntry(held).map((f, i, all) => (i > 0 && all[i - 1]!.toString() === 'data' ? Buffer.from('garbage') : f));
    const seen = (key: string, stamp: { hlc: string; origin: string }): boolean => key === 'a' && compareStamps(stamp, held) <= 0;
    const batch = prepareBatch([
      { id: '1-0', fields: corrupt },
      raw('2-0', put('a', NOW - 9, 'peer')), // older than what is held
      raw('3-0', put('a', NOW - 1, 'peer')), // newer: applied
      raw('4-0', { op: 'DEL', key: 'a', hlc: held.hlc, origin: 'other', updatedAt: NOW - 5 }),
      raw('5-0', put('b', NOW - 9, 'peer')), // another key
    ], { ...opts, seen });
    expect(batch.seen).toBe(3);
    expect(batch.rejected).toEqual([]);
    expect(batch.winners.map((w) => [w.key, w.id])).toEqual([['a', '3-0'], ['b', '5-0']]);
  });

  it('holds back stamps further ahead than max_future_skew without hiding an older change of the same key', () => {
    const batch = prepareBatch([
      raw('1-0', put('k', NOW + 1000, 'peer')),
      raw('2-0', put('k', NOW + 300_001, 'peer')),
      raw('3-0', put('edge', NOW + 300_000, 'peer')),
    ], opts);
    expect(batch.future.map((e) => e.id)).toEqual(['2-0']);
    expect(batch.winners.map((e) => e.id)).toEqual(['1-0', '3-0']);
    expect(batch.collapsed).toBe(0);
  });

  it('drops an invalid trace_parent, counts it and keeps the change', () => {
    const meta = (tp: string): string => JSON.stringify({ content_type: 'binary', version: 1, updated_at: NOW, trace_parent: tp, hlc: formatHlc(NOW), origin: 'peer' });
    const entry = (id: string, key: string, tp: string): { id: string; fields: Buffer[] } => ({
      id, fields: ['op', 'PUT', 'key', key, 'hash', sha256Hex(Buffer.from('x')), 'data', 'x', 'meta', meta(tp)].map((f) => Buffer.from(f)),
    });
    const good = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const batch = prepareBatch([entry('1-0', 'a', 'nope'), entry('2-0', 'b', good), entry('3-0', 'c', `ff${good.slice(2)}`)], opts);
    expect(batch.rejected).toEqual([]);
    expect(batch.traceParentsDropped).toBe(2);
    expect(batch.winners.map((w) => [w.key, w.traceParent])).toEqual([['a', undefined], ['b', good], ['c', undefined]]);
  });

  it('flags stamps further ahead than max_clock_skew, and still applies them', () => {
    const batch = prepareBatch([raw('1-0', put('future', NOW + 120_000, 'peer')), raw('2-0', put('now', NOW + 1000, 'peer'))], opts);
    expect(batch.skewed.map((e) => e.key)).toEqual(['future']);
    expect(batch.winners.map((e) => e.key)).toEqual(['future', 'now']);
  });
});

describe('collapseByKey', () => {
  const entry = fc.record({
    key: fc.constantFrom('k1', 'k2', 'k3'),
    ms: fc.integer({ min: 0, max: 20 }),
    origin: fc.constantFrom('a', 'b'),
  }).map(({ key, ms, origin }) => ({ ...put(key, NOW + ms, origin), id: `${ms}-0` }) as CdcEntry);

  it('keeps exactly the LWW winner of each key, whatever the order', () => {
    fc.assert(fc.property(fc.array(entry, { maxLength: 30 }), (entries) => {
      const { winners, collapsed } = collapseByKey(entries);
      expect(winners.length + collapsed).toBe(entries.length);
      for (const w of winners) {
        for (const e of entries) if (e.key === w.key) expect(compareStamps(w, e)).toBeGreaterThanOrEqual(0);
      }
      const reversed = collapseByKey([...entries].reverse()).winners;
      const stampOf = (ws: CdcEntry[]): string[] => ws.map((w) => `${w.key}|${w.hlc}|${w.origin}`).sort();
      expect(stampOf(reversed)).toEqual(stampOf(winners));
    }));
  });
});
