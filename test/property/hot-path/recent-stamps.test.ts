/**
 * RecentStamps (src/hot-path/recent-stamps.ts): it may forget, but it never claims a key is held
 * at a stamp newer than every stamp recorded for it; it keeps the greatest stamp per key; it stays
 * within its capacity, forgetting the keys recorded longest ago.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentStamps } from '../../../src/hot-path/recent-stamps.js';
import { compareStamps, type Stamp } from '../../../src/model/stamp.js';
import { formatHlc } from '../../../src/model/hlc.js';

const stamp = fc.record({ ms: fc.integer({ min: 0, max: 50 }), logical: fc.integer({ min: 0, max: 3 }), origin: fc.constantFrom('a', 'b', 'c') })
  .map(({ ms, logical, origin }): Stamp => ({ hlc: formatHlc(1_800_000_000_000 + ms, logical), origin }));
const key = fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5', 'k6');
const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('record' as const), key, stamp }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('covers' as const), key, stamp }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('active' as const), on: fc.boolean() }) },
);

describe('RecentStamps', () => {
  it('covers a stamp only if a recorded stamp of that key is at least as new', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 8 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
      const recent = new RecentStamps(capacity);
      const greatest = new Map<string, Stamp>(); // the model: everything ever recorded
      for (const o of ops) {
        if (o.kind === 'active') {
          recent.active = o.on;
        } else if (o.kind === 'record') {
          recent.record(o.key, o.stamp);
          const g = greatest.get(o.key);
          if (!g || compareStamps(o.stamp, g) > 0) greatest.set(o.key, o.stamp);
        } else if (recent.covers(o.key, o.stamp)) {
          const g = greatest.get(o.key);
          expect(g).toBeDefined();
          expect(compareStamps(o.stamp, g!)).toBeLessThanOrEqual(0);
        }
        expect(recent.size).toBeLessThanOrEqual(capacity);
      }
    }));
  });

  it('remembers the greatest stamp recorded for a key, and forgets the keys recorded longest ago', () => {
    const recent = new RecentStamps(4); // two generations of two keys
    const s = (ms: number, origin = 'a'): Stamp => ({ hlc: formatHlc(1_800_000_000_000 + ms), origin });
    recent.record('x', s(5));
    recent.record('x', s(3)); // older: x stays at 5
    expect(recent.covers('x', s(5))).toBe(true);
    expect(recent.covers('x', s(5, 'b'))).toBe(false); // same hlc, greater origin: newer
    recent.record('y', s(1)); // generation 1: x, y
    recent.record('z', s(1)); // generation 2: z
    expect(recent.covers('x', s(5))).toBe(true);
    recent.record('x', s(4)); // older than what x holds: carried into generation 2 at 5
    recent.record('w', s(1)); // generation 3 begins: generation 1 (x, y) is forgotten
    expect(recent.covers('y', s(1))).toBe(false);
    expect(recent.covers('x', s(5))).toBe(true);
    expect(recent.covers('z', s(0))).toBe(true);
    expect(recent.size).toBeLessThanOrEqual(4);
    recent.clear();
    expect(recent.covers('x', s(0))).toBe(false);
    // Switched off (a node with one peer): records and covers nothing, and forgets what it held.
    recent.record('x', s(5));
    recent.active = false;
    expect(recent.covers('x', s(0))).toBe(false);
    recent.record('y', s(5));
    recent.active = true;
    expect(recent.covers('x', s(0))).toBe(false);
    expect(recent.covers('y', s(0))).toBe(false);
    recent.record('y', s(5));
    expect(recent.covers('y', s(0))).toBe(true);
    expect(() => new RecentStamps(-1)).toThrow(RangeError);
  });
});
