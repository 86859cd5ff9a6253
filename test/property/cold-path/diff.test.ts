// The pure decisions of the cold path: which subtrees differ, and which side wins a key.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyKey, diffBucket, divergentIds, rotateFrom } from '../../../src/cold-path/diff.js';
import { formatHlc } from '../../../src/model/hlc.js';
import { compareStamps } from '../../../src/model/stamp.js';
import type { LeafStamp } from '../../../src/store/local-store.js';

const leaf: fc.Arbitrary<LeafStamp> = fc.record({
  hlc: fc.integer({ min: 0, max: 50 }).map((ms) => formatHlc(1_000 + ms)),
  origin: fc.constantFrom('a', 'b', 'c'),
  deleted: fc.boolean(),
}).map(({ hlc, origin, deleted }) => ({ hlc, origin, deleted, hash: deleted ? '' : `h-${hlc}-${origin}` }));
const bucket = fc.dictionary(fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5'), leaf).map((d) => new Map(Object.entries(d)));
const digests = fc.dictionary(fc.constantFrom('00', '01', '02', 'fe', 'ff'), fc.constantFrom('x', 'y')).map((d) => new Map(Object.entries(d)));
const horizon = fc.option(fc.integer({ min: 0, max: 60 }).map((ms) => formatHlc(1_000 + ms)), { nil: null });

const flip = { local: 'peer', peer: 'local', equal: 'equal' } as const;

describe('cold-path diff rules', () => {
  it('the winner is the greater stamp; a key only one side has is won by that side, never deleted', () => {
    fc.assert(fc.property(fc.option(leaf, { nil: undefined }), fc.option(leaf, { nil: undefined }), (l, p) => {
      const d = classifyKey('k', l, p, null);
      if ((!l && !p) || (l && p && compareStamps(l, p) === 0 && l.hash === p.hash && l.deleted === p.deleted)) {
        expect(d).toBeNull();
        return;
      }
      const expected = !l ? 'peer' : !p ? 'local' : compareStamps(p, l) > 0 ? 'peer' : compareStamps(p, l) < 0 ? 'local' : 'equal';
      expect(d?.winner).toBe(expected);
    }));
  });

  it('is symmetric: swapping the sides swaps the winner', () => {
    fc.assert(fc.property(bucket, bucket, horizon, (a, b, h) => {
      const ab = diffBucket(a, b, h);
      const ba = diffBucket(b, a, h);
      expect(ba.map((d) => [d.key, d.winner])).toEqual(ab.map((d) => [d.key, flip[d.winner]]));
    }));
  });

  it('a winning tombstone past the horizon is never reported (never fetched, never re-applied)', () => {
    fc.assert(fc.property(bucket, bucket, horizon, (a, b, h) => {
      for (const d of diffBucket(a, b, h)) {
        const winning = d.winner === 'peer' ? d.peer : d.winner === 'local' ? d.local : null;
        if (d.winner !== 'equal') expect(winning).not.toBeNull();
        if (winning && winning.deleted && h !== null) expect(winning.hlc >= h).toBe(true);
      }
    }));
  });

  it('divergentIds lists exactly the ids whose digests differ, sorted', () => {
    fc.assert(fc.property(digests, digests, (a, b) => {
      const ids = divergentIds(a, b);
      const all = [...new Set([...a.keys(), ...b.keys()])].sort();
      expect(ids).toEqual(all.filter((id) => a.get(id) !== b.get(id)));
    }));
  });

  it('rotateFrom keeps every id once and starts at the resume point', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.constantFrom('00', '10', '20', '30', 'f0')), fc.option(fc.constantFrom('05', '10', '25', 'ff'), { nil: null }), (raw, start) => {
      const ids = [...raw].sort();
      const r = rotateFrom(ids, start);
      expect([...r].sort()).toEqual(ids);
      const firstAtOrAfter = ids.find((id) => start !== null && id >= start);
      if (firstAtOrAfter !== undefined && ids[0]! < firstAtOrAfter) expect(r[0]).toBe(firstAtOrAfter);
    }));
  });
});
