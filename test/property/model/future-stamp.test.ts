// The HLC rules of issue 14 (defects 2 and 3): stamps bounded and exact, the clock never further
// ahead of the wall clock than max_future_skew, far-future changes refused until the clock catches up.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  HLC_MAX, HLC_MAX_LOGICAL, HLC_MAX_PHYSICAL_MS, formatHlc, isHlc, nextHlc, parseHlc, successorHlc,
} from '../../../src/model/hlc.js';
import { acceptableFromMs, isTooFarAhead } from '../../../src/model/future-stamp.js';

const physical = fc.oneof(fc.integer({ min: 0, max: HLC_MAX_PHYSICAL_MS }), fc.integer({ min: HLC_MAX_PHYSICAL_MS - 100, max: HLC_MAX_PHYSICAL_MS }));
const logical = fc.oneof(fc.integer({ min: 0, max: HLC_MAX_LOGICAL }), fc.constantFrom(0, HLC_MAX_LOGICAL - 1, HLC_MAX_LOGICAL));
const stamp = fc.tuple(physical, logical).map(([p, l]) => formatHlc(p, l));
const bound = fc.integer({ min: 0, max: 366 * 86_400_000 });
/** A stamp's position in the total order, exactly (BigInt). */
const rank = (h: string): bigint => BigInt(h.slice(0, 16)) * 100_000n + BigInt(h.slice(17));

describe('HLC bounds and exactness', () => {
  it('every stamp in the range round-trips exactly, and nothing beyond it is a stamp', () => {
    fc.assert(fc.property(physical, logical, (p, l) => {
      const h = formatHlc(p, l);
      expect(isHlc(h)).toBe(true);
      expect(parseHlc(h)).toEqual({ physicalMs: p, logical: l });
      expect(h <= HLC_MAX).toBe(true);
    }));
    fc.assert(fc.property(fc.bigInt({ min: BigInt(HLC_MAX_PHYSICAL_MS) + 1n, max: 10n ** 16n - 1n }), logical, (p, l) => {
      const h = `${p.toString().padStart(16, '0')}-${String(l).padStart(5, '0')}`;
      expect(isHlc(h)).toBe(false);
      expect(() => parseHlc(h)).toThrow(/beyond the greatest stamp/);
      expect(() => formatHlc(Number(p), l)).toThrow(/out of range/);
    }));
  });

  it('successorHlc is exactly the next stamp in the order (no stamp between), up to the greatest', () => {
    fc.assert(fc.property(stamp, (h) => {
      if (h === HLC_MAX) {
        expect(() => successorHlc(h)).toThrow(/out of range/);
        return;
      }
      expect(rank(successorHlc(h))).toBe(rank(h) + 1n);
    }));
  });

  it('a local stamp is never behind the wall clock nor further ahead than the bound, whatever the clock held', () => {
    fc.assert(fc.property(fc.option(stamp, { nil: null }), physical, bound, (last, now, b) => {
      const next = nextHlc(last, now, b);
      const { physicalMs } = parseHlc(next);
      expect(physicalMs).toBeGreaterThanOrEqual(now);
      expect(physicalMs).toBeLessThanOrEqual(Math.min(HLC_MAX_PHYSICAL_MS, now + b));
    }));
  });

  it('a local stamp beats the last one whenever the last is within the bound and below its top', () => {
    fc.assert(fc.property(stamp, physical, bound, (last, now, b) => {
      const cap = Math.min(HLC_MAX_PHYSICAL_MS, now + b);
      fc.pre(parseHlc(last).physicalMs <= cap && last < formatHlc(cap, HLC_MAX_LOGICAL));
      expect(nextHlc(last, now, b) > last).toBe(true);
    }));
  });

  it('a node that refuses far-future changes issues increasing stamps, all within wall clock + bound', () => {
    // A run of local writes and received changes, the wall clock moving forward by random steps.
    const op = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), step: fc.integer({ min: 0, max: 5_000 }) }),
      fc.record({ kind: fc.constant('receive' as const), step: fc.integer({ min: 0, max: 5_000 }), ahead: fc.integer({ min: -10_000, max: 10 ** 12 }), l: logical }),
    );
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 44 }), fc.integer({ min: 0, max: 600_000 }), fc.array(op, { maxLength: 60 }), (start, b, ops) => {
      let now = start;
      let clock: string | null = null;
      let lastIssued = '';
      for (const o of ops) {
        now += o.step;
        if (o.kind === 'receive') {
          const received = formatHlc(Math.max(0, Math.min(HLC_MAX_PHYSICAL_MS, now + o.ahead)), o.l);
          if (isTooFarAhead(received, now, b)) continue; // refused: the clock does not move
          if (clock === null || received > clock) clock = received;
          continue;
        }
        const issued = nextHlc(clock, now, b);
        expect(parseHlc(issued).physicalMs).toBeLessThanOrEqual(now + b);
        // Increasing unless the counter ran out exactly at the bound (the store's per-key rule covers that).
        if (issued <= lastIssued) expect(issued).toBe(formatHlc(now + b, HLC_MAX_LOGICAL));
        lastIssued = issued;
        clock = issued;
      }
    }));
  });

  it('the far-future rule depends on stamp and wall clock only, and once a change passes it passes for good', () => {
    fc.assert(fc.property(stamp, physical, fc.integer({ min: 0, max: 10 ** 9 }), bound, (h, now, later, b) => {
      const refused = isTooFarAhead(h, now, b);
      expect(refused).toBe(parseHlc(h).physicalMs > now + b);
      if (!refused) expect(isTooFarAhead(h, now + later, b)).toBe(false);
      expect(isTooFarAhead(h, acceptableFromMs(h, b), b)).toBe(false);
      expect(isTooFarAhead(h, acceptableFromMs(h, b) - 1, b)).toBe(true);
    }));
  });

  it('stamps of the wrong shape or beyond the range are never within any bound', () => {
    for (const h of ['9007199254740993-00000', '9999999999999999-00000', '10000000000000000-00001', 'garbage']) {
      expect(isTooFarAhead(h, HLC_MAX_PHYSICAL_MS, 366 * 86_400_000)).toBe(true);
    }
  });
});
