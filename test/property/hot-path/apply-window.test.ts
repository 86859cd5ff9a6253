/**
 * ApplyWindow (src/hot-path/apply-window.ts): whatever order the applies settle in, batches
 * finish in the order they were sent, each after every earlier one; the window holds at most
 * `size` unfinished batches; drain waits for all of them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApplyWindow } from '../../../src/hot-path/apply-window.js';

function deferred(): { promise: Promise<number>; resolve: (v: number) => void } {
  let resolve!: (v: number) => void;
  const promise = new Promise<number>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ApplyWindow', () => {
  it('finishes batches in the order they were sent, whatever order their applies settle in', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }))),
      async ([n, settleOrder]) => {
        const window = new ApplyWindow(n);
        const applies = Array.from({ length: n }, deferred);
        const finished: number[] = [];
        applies.forEach((a, i) => window.add(a.promise, (result) => {
          expect(result).toBe(i * 10);
          finished.push(i);
          return true;
        }));
        for (const i of settleOrder) {
          applies[i]!.resolve(i * 10);
          await Promise.resolve();
        }
        await window.drain();
        expect(finished).toEqual([...Array(n).keys()]);
      }));
  });

  it('makes room only when the oldest batch has finished', async () => {
    const window = new ApplyWindow(2);
    const [a, b, c] = [deferred(), deferred(), deferred()];
    window.add(a.promise, () => true);
    window.add(b.promise, () => true);
    let room = false;
    const waiting = window.waitForRoom().then(() => (room = true));
    b.resolve(2); // the newer one settling does not make room: it finishes after the oldest
    await new Promise((r) => setImmediate(r));
    expect(room).toBe(false);
    a.resolve(1);
    await waiting;
    expect(room).toBe(true);
    window.add(c.promise, () => true);
    c.resolve(3);
    await window.drain();
    expect(() => new ApplyWindow(0)).toThrow(RangeError);
  });
});
