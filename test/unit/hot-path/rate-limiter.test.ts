import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/hot-path/rate-limiter.js';
import { ValidationError } from '../../../src/errors.js';

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBucket', () => {
  it('grants up to burst at once, then asks to wait for the refill', () => {
    const c = clock();
    const b = new TokenBucket({ ratePerSec: 100, burst: 10, now: c.now });
    expect(b.take(10)).toBe(0);
    // 5 more tokens at 100/s = 50 ms.
    expect(b.take(5)).toBeCloseTo(50);
    // Reservations queue: the next 5 are available 50 ms after those.
    expect(b.take(5)).toBeCloseTo(100);
    c.advance(100);
    expect(b.available()).toBeCloseTo(0);
  });

  it('lets a request larger than burst through after a proportional wait', () => {
    const c = clock();
    const b = new TokenBucket({ ratePerSec: 1000, burst: 10, now: c.now });
    expect(b.take(110)).toBeCloseTo(100);
  });

  it('tryTake takes only what is there now', () => {
    const c = clock();
    const b = new TokenBucket({ ratePerSec: 10, burst: 2, now: c.now });
    expect(b.tryTake(2)).toBe(true);
    expect(b.tryTake(1)).toBe(false);
    c.advance(100);
    expect(b.tryTake(1)).toBe(true);
    expect(b.tryTake(1)).toBe(false);
  });

  it('refills no higher than burst after idling', () => {
    const c = clock();
    const b = new TokenBucket({ ratePerSec: 10, burst: 3, now: c.now });
    c.advance(60_000);
    expect(b.available()).toBe(3);
  });

  it('ignores a clock stepping backwards', () => {
    const c = clock(1000);
    const b = new TokenBucket({ ratePerSec: 10, burst: 3, now: c.now });
    b.take(3);
    c.advance(-500);
    expect(b.available()).toBe(0);
    c.advance(600);
    expect(b.available()).toBeCloseTo(1);
  });

  it('refuses invalid options and counts', () => {
    const c = clock();
    expect(() => new TokenBucket({ ratePerSec: 0, burst: 1, now: c.now })).toThrow(ValidationError);
    expect(() => new TokenBucket({ ratePerSec: 1, burst: 0, now: c.now })).toThrow(ValidationError);
    const b = new TokenBucket({ ratePerSec: 1, burst: 1, now: c.now });
    expect(() => b.take(-1)).toThrow(ValidationError);
    expect(() => b.tryTake(Number.NaN)).toThrow(ValidationError);
  });
});
