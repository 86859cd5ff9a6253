import { ValidationError } from '../errors.js';

export interface AimdOptions {
  /** Read size to start with (and the fixed size when `enabled` is false). */
  initial: number;
  min: number;
  max: number;
  enabled: boolean;
}

/**
 * Adaptive XREAD COUNT for one peer's tailer.
 *
 * Rule (documented in docs/hot-path.md):
 * - full read (`readCount >= requested`): we are falling behind → `size = min(max, size * 2)`;
 * - clearly short read (`readCount * 2 < requested`): → `size = max(min, size - step)`,
 *   with `step = max(1, round(min / 2))`;
 * - otherwise (between half and full) the size holds.
 *
 * The dead band is what removes oscillation: at a steady `r` entries per read, growth
 * stops at the first size in `(r, 2r]` and shrinking stops at the first size `<= 2r`,
 * and both ranges sit inside the band, so the size settles and stays put.
 */
export class AimdBatchSizer {
  private readonly opts: AimdOptions;
  private readonly step: number;
  private size: number;

  constructor(opts: AimdOptions) {
    for (const field of ['initial', 'min', 'max'] as const) {
      if (!Number.isSafeInteger(opts[field]) || opts[field] < 1) {
        throw new ValidationError('invalid_batch_size', field, `must be a positive integer, got ${opts[field]}`);
      }
    }
    // A fixed size ignores min and max (the config only relates them when adaptive).
    if (opts.enabled && opts.min > opts.max) {
      throw new ValidationError('invalid_batch_size', 'min', `min (${opts.min}) must not exceed max (${opts.max})`);
    }
    this.opts = { ...opts };
    this.step = Math.max(1, Math.round(opts.min / 2));
    this.size = opts.enabled ? clamp(opts.initial, opts.min, opts.max) : opts.initial;
  }

  /** The size the next read should request. */
  get current(): number {
    return this.opts.enabled ? this.size : this.opts.initial;
  }

  /** Feed back one read's outcome; returns the size for the next read. */
  next(readCount: number, requested: number): number {
    if (!this.opts.enabled) return this.opts.initial;
    if (requested <= 0) return this.size;
    if (readCount >= requested) {
      this.size = Math.min(this.opts.max, this.size * 2);
    } else if (readCount * 2 < requested) {
      this.size = Math.max(this.opts.min, this.size - this.step);
    }
    return this.size;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
