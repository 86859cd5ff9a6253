import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AimdBatchSizer } from '../../../src/hot-path/aimd.js';

const optsArb = fc
  .record({ min: fc.integer({ min: 1, max: 500 }), span: fc.integer({ min: 0, max: 5000 }), initialFrac: fc.double({ min: 0, max: 1, noNaN: true }) })
  .map(({ min, span, initialFrac }) => {
    const max = min + span;
    return { min, max, initial: min + Math.round(initialFrac * span), enabled: true };
  });

/** Reads needed to walk the whole range: doublings from min plus unit-ish steps down from max. */
function settleBound(min: number, max: number): number {
  const step = Math.max(1, Math.round(min / 2));
  return Math.ceil(Math.log2(max / min)) + Math.ceil((max - min) / step) + 2;
}

describe('AimdBatchSizer properties', () => {
  it('stays within [min, max] for any read outcomes', () => {
    fc.assert(
      fc.property(optsArb, fc.array(fc.nat({ max: 20_000 }), { maxLength: 200 }), (opts, reads) => {
        const s = new AimdBatchSizer(opts);
        let size = s.current;
        for (const r of reads) {
          size = s.next(Math.min(r, size), size);
          expect(size).toBeGreaterThanOrEqual(opts.min);
          expect(size).toBeLessThanOrEqual(opts.max);
        }
      }),
    );
  });

  it('reaches max under a constant backlog and min when idle', () => {
    fc.assert(
      fc.property(optsArb, (opts) => {
        const busy = new AimdBatchSizer(opts);
        let size = busy.current;
        for (let i = 0; i < settleBound(opts.min, opts.max); i++) size = busy.next(size, size);
        expect(size).toBe(opts.max);

        const idle = new AimdBatchSizer(opts);
        size = idle.current;
        for (let i = 0; i < settleBound(opts.min, opts.max); i++) size = idle.next(0, size);
        expect(size).toBe(opts.min);
      }),
    );
  });

  it('settles to a fixed point at a steady rate, changing direction at most once', () => {
    fc.assert(
      fc.property(optsArb, fc.nat({ max: 10_000 }), (opts, rate) => {
        const s = new AimdBatchSizer(opts);
        let size = s.current;
        const directions: number[] = [];
        const bound = settleBound(opts.min, opts.max);
        for (let i = 0; i < bound; i++) {
          const next = s.next(Math.min(rate, size), size);
          if (next !== size) {
            const dir = Math.sign(next - size);
            if (directions.at(-1) !== dir) directions.push(dir);
          }
          size = next;
        }
        const settled = size;
        // After the bound, no more changes: a fixed point, not an oscillation.
        for (let i = 0; i < 50; i++) {
          size = s.next(Math.min(rate, size), size);
          expect(size).toBe(settled);
        }
        expect(directions.length).toBeLessThanOrEqual(1);
        // The fixed point keeps up: either it reads everything that arrives, or it is at max.
        expect(settled >= rate || settled === opts.max).toBe(true);
        // And it does not over-ask by more than 2x (unless pinned at min).
        expect(settled <= Math.max(opts.min, 2 * rate)).toBe(true);
      }),
    );
  });
});
