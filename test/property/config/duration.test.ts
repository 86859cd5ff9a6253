import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../../src/config/duration.js';

describe('duration (property)', () => {
  it('parseDuration ∘ formatDuration is the identity on non-negative safe integers', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.nat({ max: 1000 }).map((n) => n * 86_400_000)), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('formatting a parsed duration gives a canonical spelling with the same value', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.constantFrom('ms', 's', 'm', 'h', 'd'), (n, unit) => {
        const ms = parseDuration(`${n}${unit}`);
        const canonical = formatDuration(ms);
        expect(parseDuration(canonical)).toBe(ms);
        expect(formatDuration(parseDuration(canonical))).toBe(canonical);
      }),
    );
  });

  it('a plain integer is milliseconds', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (ms) => parseDuration(ms) === ms));
  });
});
