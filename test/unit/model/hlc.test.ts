import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatHlc, nextHlc, parseHlc, maxHlc } from '../../../src/model/hlc.js';
import { compareStamps } from '../../../src/model/stamp.js';

describe('hlc', () => {
  it('formats fixed width so string order is time order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 99_999 }),
        fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 99_999 }),
        (p1, l1, p2, l2) => {
          const a = formatHlc(p1, l1);
          const b = formatHlc(p2, l2);
          const numeric = p1 !== p2 ? Math.sign(p1 - p2) : Math.sign(l1 - l2);
          expect(Math.sign(a < b ? -1 : a > b ? 1 : 0)).toBe(numeric);
          expect(parseHlc(a)).toEqual({ physicalMs: p1, logical: l1 });
        },
      ),
    );
  });

  it('next stamp is strictly greater than the last and never behind the wall clock', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 2 ** 45 }), (p, l, now) => {
        const last = formatHlc(p, l);
        const next = nextHlc(last, now);
        expect(next > last).toBe(true);
        expect(parseHlc(next).physicalMs).toBeGreaterThanOrEqual(now);
      }),
    );
  });

  it('carries a logical overflow into the physical part', () => {
    expect(nextHlc(formatHlc(10, 99_999), 5)).toBe(formatHlc(11, 0));
  });

  it('refuses malformed stamps instead of reading them as zero', () => {
    for (const bad of ['', '0', '1735776000000-00000', '0001735776000000-0000a', '0001735776000000_00000']) {
      expect(() => parseHlc(bad)).toThrowError(/not an HLC stamp/);
    }
  });

  it('maxHlc picks the later stamp', () => {
    expect(maxHlc(formatHlc(5, 1), formatHlc(5, 2))).toBe(formatHlc(5, 2));
  });
});

describe('last-writer-wins order', () => {
  const stamp = fc.record({
    hlc: fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 3 })).map(([p, l]) => formatHlc(p, l)),
    origin: fc.constantFrom('a', 'b', 'node-1', 'node-2'),
  });
  it('is a total order: antisymmetric and transitive', () => {
    fc.assert(
      fc.property(stamp, stamp, stamp, (a, b, c) => {
        expect(compareStamps(a, b) + compareStamps(b, a)).toBe(0);
        if (compareStamps(a, b) <= 0 && compareStamps(b, c) <= 0) expect(compareStamps(a, c)).toBeLessThanOrEqual(0);
        if (compareStamps(a, b) === 0) expect(a).toEqual(b);
      }),
    );
  });
});
