import { ValidationError } from '../errors.js';

export interface TokenBucketOptions {
  /** Sustained tokens (stream entries) per second. */
  ratePerSec: number;
  /** Tokens available at once after an idle period. */
  burst: number;
  now: () => number;
}

/**
 * Token bucket for one peer's stream (each tailer owns one, so `rate_limit_per_sec`
 * applies to each peer separately).
 *
 * `take` reserves tokens even when they are not there yet: the balance goes negative
 * and the caller is told how long to wait. Reserving up front keeps callers in FIFO
 * order and lets a request larger than `burst` through after a proportional wait
 * instead of starving it forever.
 */
export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(opts: TokenBucketOptions) {
    if (!Number.isFinite(opts.ratePerSec) || opts.ratePerSec <= 0) {
      throw new ValidationError('invalid_rate_limit', 'ratePerSec', `must be a positive number, got ${opts.ratePerSec}`);
    }
    if (!Number.isFinite(opts.burst) || opts.burst <= 0) {
      throw new ValidationError('invalid_rate_limit', 'burst', `must be a positive number, got ${opts.burst}`);
    }
    this.ratePerMs = opts.ratePerSec / 1000;
    this.burst = opts.burst;
    this.now = opts.now;
    this.tokens = opts.burst;
    this.last = opts.now();
  }

  /** Current balance (negative while reservations are outstanding). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /**
   * Reserve `n` tokens; returns the milliseconds to wait before using them (0 when they
   * are there now). May be fractional: sleep `Math.ceil` of it.
   */
  take(n: number): number {
    checkCount(n);
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : -this.tokens / this.ratePerMs;
  }

  /** Take `n` tokens only if they are available right now. */
  tryTake(n: number): boolean {
    checkCount(n);
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  private refill(): void {
    const t = this.now();
    // A clock that steps backwards must not mint or remove tokens.
    if (t > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.ratePerMs);
      this.last = t;
    }
  }
}

function checkCount(n: number): void {
  if (!Number.isFinite(n) || n < 0) {
    throw new ValidationError('invalid_token_count', 'n', `must be a non-negative number, got ${n}`);
  }
}
