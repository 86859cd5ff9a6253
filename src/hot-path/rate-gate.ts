/**
 * The tailer's rate limit (docs/hot-path.md, step 5): the entries read take tokens from a
 * `TokenBucket`, and the tailer waits for them. A reload swaps the bucket or turns the limit off
 * while a wait is under way; the wait then follows the new settings.
 */
import type { HotPathSettings } from '../config/types.js';
import { TokenBucket } from './rate-limiter.js';
import type { Sleeper } from './sleeper.js';

export class RateGate {
  /** Whether entries take tokens at all; when false nothing here runs per batch. */
  enabled = false;
  /** The bucket's burst: a read asks for at most this many entries while enabled. */
  burst = 0;
  private bucket: TokenBucket | null = null;
  private settings: HotPathSettings | null = null;

  constructor(private readonly now: () => number, private readonly sleeper: Sleeper, private readonly onWait: () => void) {}

  /** Takes effect at once, also for a wait under way. */
  configure(next: HotPathSettings): void {
    const old = this.settings;
    if (this.bucket === null || old === null || next.rate_limit_per_sec !== old.rate_limit_per_sec || next.rate_limit_burst !== old.rate_limit_burst) {
      this.bucket = new TokenBucket({ ratePerSec: next.rate_limit_per_sec, burst: next.rate_limit_burst, now: this.now });
    }
    this.settings = next;
    this.enabled = next.rate_limit_enabled;
    this.burst = next.rate_limit_burst;
  }

  /**
   * Waits until `n` entries may pass; false when `stopping` turns true meanwhile. A stop or a
   * reload cuts the wait short (the sleeper is woken): a reload that changed the rate takes the
   * tokens from the new bucket, one that turned limiting off lets the batch through at once.
   */
  async wait(n: number, stopping: () => boolean): Promise<boolean> {
    let bucket = this.bucket!;
    let until = this.now() + bucket.take(n);
    let counted = false;
    while (!stopping()) {
      if (!this.enabled) return true;
      if (bucket !== this.bucket) {
        bucket = this.bucket!;
        until = this.now() + bucket.take(n);
      }
      const waitMs = until - this.now();
      if (waitMs <= 0) return true;
      if (!counted) this.onWait();
      counted = true;
      await this.sleeper.sleep(Math.ceil(waitMs));
    }
    return false;
  }
}
