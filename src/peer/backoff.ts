import { ValidationError } from '../errors.js';

export type JitterMode = 'full' | 'equal' | 'none';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /**
   * full: uniform in [0, cap) — best at spreading many reconnecting clients;
   * equal: cap/2 + uniform in [0, cap/2) — never retries immediately;
   * none: exactly the cap (deterministic; for tests and tooling).
   */
  jitter: JitterMode;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/**
 * Capped exponential backoff: the cap for attempt `k` (0-based) is
 * `min(maxMs, baseMs * 2^k)`, and jitter picks a delay under it. It never gives up:
 * callers that must keep trying (reconnection) simply keep calling `next()`.
 */
export class ExponentialBackoff {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly jitter: JitterMode;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions) {
    if (!Number.isFinite(opts.baseMs) || opts.baseMs < 0) {
      throw new ValidationError('invalid_backoff', 'baseMs', `must be a non-negative number, got ${opts.baseMs}`);
    }
    if (!Number.isFinite(opts.maxMs) || opts.maxMs < opts.baseMs) {
      throw new ValidationError('invalid_backoff', 'maxMs', `must be a number >= baseMs (${opts.baseMs}), got ${opts.maxMs}`);
    }
    this.baseMs = opts.baseMs;
    this.maxMs = opts.maxMs;
    this.jitter = opts.jitter;
    this.random = opts.random ?? Math.random;
  }

  /** Attempts counted by `next()` since the last `reset()`. */
  get attempts(): number {
    return this.attempt;
  }

  /** Upper bound of the delay for `attempt`; non-decreasing in `attempt`. */
  cap(attempt: number): number {
    const k = Math.max(0, Math.floor(attempt));
    // 2^k overflows to Infinity for large k; min() then yields maxMs, as intended
    // (but 0 * Infinity is NaN, hence the zero base case).
    if (this.baseMs === 0) return 0;
    return Math.min(this.maxMs, this.baseMs * 2 ** k);
  }

  /** Delay in whole milliseconds before retry number `attempt` (0-based). */
  delay(attempt: number): number {
    const cap = this.cap(attempt);
    const r = clampUnit(this.random());
    let d: number;
    switch (this.jitter) {
      case 'none':
        d = cap;
        break;
      case 'full':
        d = r * cap;
        break;
      case 'equal':
        d = cap / 2 + (r * cap) / 2;
        break;
    }
    return Math.min(this.maxMs, Math.max(0, Math.round(d)));
  }

  /** Delay for the next attempt, counting it. */
  next(): number {
    const delayMs = this.delay(this.attempt);
    this.attempt += 1;
    return delayMs;
  }

  /** After a success: the next failure starts from `baseMs` again. */
  reset(): void {
    this.attempt = 0;
  }
}

function clampUnit(r: number): number {
  return Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0;
}
