import { describe, expect, it } from 'vitest';
import { ExponentialBackoff } from '../../../src/peer/backoff.js';
import { ValidationError } from '../../../src/errors.js';

describe('ExponentialBackoff', () => {
  it('doubles from baseMs and caps at maxMs without jitter', () => {
    const b = new ExponentialBackoff({ baseMs: 100, maxMs: 1000, jitter: 'none' });
    expect([0, 1, 2, 3, 4, 5, 10_000].map((a) => b.delay(a))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('full jitter scales the cap by random()', () => {
    const b = new ExponentialBackoff({ baseMs: 100, maxMs: 10_000, jitter: 'full', random: () => 0.5 });
    expect(b.delay(3)).toBe(400);
    const zero = new ExponentialBackoff({ baseMs: 100, maxMs: 10_000, jitter: 'full', random: () => 0 });
    expect(zero.delay(3)).toBe(0);
  });

  it('equal jitter keeps at least half the cap', () => {
    const b = new ExponentialBackoff({ baseMs: 100, maxMs: 10_000, jitter: 'equal', random: () => 0 });
    expect(b.delay(2)).toBe(200);
    const hi = new ExponentialBackoff({ baseMs: 100, maxMs: 10_000, jitter: 'equal', random: () => 0.999 });
    expect(hi.delay(2)).toBe(400);
  });

  it('next() counts attempts and reset() starts over', () => {
    const b = new ExponentialBackoff({ baseMs: 10, maxMs: 1000, jitter: 'none' });
    expect([b.next(), b.next(), b.next()]).toEqual([10, 20, 40]);
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(10);
  });

  it('keeps going forever at the cap', () => {
    const b = new ExponentialBackoff({ baseMs: 1, maxMs: 50, jitter: 'none' });
    let last = 0;
    for (let i = 0; i < 5000; i++) last = b.next();
    expect(last).toBe(50);
  });

  it('refuses invalid options', () => {
    expect(() => new ExponentialBackoff({ baseMs: -1, maxMs: 10, jitter: 'none' })).toThrow(ValidationError);
    expect(() => new ExponentialBackoff({ baseMs: 10, maxMs: 5, jitter: 'none' })).toThrow(ValidationError);
  });
});
