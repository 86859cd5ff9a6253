import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ExponentialBackoff, type JitterMode } from '../../../src/peer/backoff.js';

const optsArb = fc
  .record({
    baseMs: fc.integer({ min: 0, max: 10_000 }),
    extra: fc.integer({ min: 0, max: 600_000 }),
    jitter: fc.constantFrom<JitterMode>('full', 'equal', 'none'),
    r: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  })
  .map(({ baseMs, extra, jitter, r }) => ({ baseMs, maxMs: baseMs + extra, jitter, random: () => r }));

describe('ExponentialBackoff properties', () => {
  it('every delay is within [0, maxMs] and under its cap', () => {
    fc.assert(
      fc.property(optsArb, fc.nat({ max: 5000 }), (opts, attempt) => {
        const b = new ExponentialBackoff(opts);
        const d = b.delay(attempt);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(opts.maxMs);
        expect(d).toBeLessThanOrEqual(Math.round(b.cap(attempt)));
      }),
    );
  });

  it('the cap never decreases with the attempt number and ends at maxMs', () => {
    fc.assert(
      fc.property(optsArb, fc.nat({ max: 2000 }), (opts, attempt) => {
        const b = new ExponentialBackoff(opts);
        expect(b.cap(attempt + 1)).toBeGreaterThanOrEqual(b.cap(attempt));
        if (opts.baseMs > 0) expect(b.cap(2000)).toBe(opts.maxMs);
      }),
    );
  });

  it('with the same random draw, a later attempt never waits less', () => {
    fc.assert(
      fc.property(optsArb, fc.nat({ max: 100 }), (opts, attempt) => {
        const b = new ExponentialBackoff(opts);
        expect(b.delay(attempt + 1)).toBeGreaterThanOrEqual(b.delay(attempt));
      }),
    );
  });
});
