import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TokenBucket } from '../../../src/hot-path/rate-limiter.js';

interface Grant {
  at: number;
  n: number;
}

const scheduleArb = fc.record({
  ratePerSec: fc.integer({ min: 1, max: 10_000 }),
  burst: fc.integer({ min: 1, max: 500 }),
  ops: fc.array(
    fc.record({
      gapMs: fc.nat({ max: 300 }),
      frac: fc.double({ min: 0, max: 1, noNaN: true }),
      kind: fc.constantFrom('take', 'tryTake'),
    }),
    { maxLength: 80 },
  ),
});

describe('TokenBucket properties', () => {
  it('never grants more than burst + rate * window in any window', () => {
    fc.assert(
      fc.property(scheduleArb, ({ ratePerSec, burst, ops }) => {
        let t = 0;
        const bucket = new TokenBucket({ ratePerSec, burst, now: () => t });
        const grants: Grant[] = [];
        for (const op of ops) {
          t += op.gapMs;
          const n = Math.max(1, Math.round(op.frac * burst));
          if (op.kind === 'take') grants.push({ at: t + bucket.take(n), n });
          else if (bucket.tryTake(n)) grants.push({ at: t, n });
        }
        grants.sort((a, b) => a.at - b.at);
        for (let i = 0; i < grants.length; i++) {
          let sum = 0;
          for (let j = i; j < grants.length; j++) {
            sum += grants[j]!.n;
            const window = grants[j]!.at - grants[i]!.at;
            expect(sum).toBeLessThanOrEqual(burst + (ratePerSec * window) / 1000 + 1e-6 * sum);
          }
        }
      }),
    );
  });

  it('a caller that waits as told is always granted eventually and never starved', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 40 }), (rate, burst, sizes) => {
        let t = 0;
        const bucket = new TokenBucket({ ratePerSec: rate, burst, now: () => t });
        for (const n of sizes) {
          const wait = bucket.take(n);
          expect(wait).toBeGreaterThanOrEqual(0);
          // Proportional: never more than the time to mint n tokens from empty.
          expect(wait).toBeLessThanOrEqual((n * 1000) / rate + 1e-6);
          t += Math.ceil(wait);
        }
      }),
    );
  });
});
