/**
 * Backpressure signal (docs/hot-path.md): local Redis memory against maxmemory, asked of Redis at
 * most once per poll interval however often the tailers ask.
 *
 * Fails closed: when Redis cannot say how much memory it uses (down, INFO refused by an ACL,
 * an unreadable reply) `accepting()` rejects with a `memory_check_failed` ReplicationError
 * instead of guessing "true". Writing blind could push a Redis with an eviction policy into
 * evicting replicated data; the hot path treats a rejection as "not now" and retries with
 * backoff, reporting the error instead of a misleading "memory above threshold".
 */
import { ReplicationError, errorMessage } from '../errors.js';

export interface MemoryGuardOptions {
  /** Accept writes while used_memory < threshold × maxmemory (0 < threshold ≤ 1). */
  threshold: number;
  pollIntervalMs: number;
  now: () => number;
}

type Answer = { ok: true; accepting: boolean } | { ok: false; error: ReplicationError };

export class MemoryGuard {
  private lastPoll = -Infinity;
  private last: Answer = { ok: true, accepting: true };
  private inFlight: Promise<boolean> | null = null;

  /**
   * `readInfo` answers `INFO memory`; it must settle (the store's calls do, even when the connection
   * drops under them): a poll in flight is shared by every caller until it does.
   */
  constructor(
    private readonly readInfo: () => Promise<string>,
    private options: MemoryGuardOptions,
  ) {}

  /** New threshold or interval (a reload); the next question asks Redis again. */
  configure(changes: { threshold?: number | undefined; pollIntervalMs?: number | undefined }): void {
    const next = { ...this.options };
    if (changes.threshold !== undefined) next.threshold = changes.threshold;
    if (changes.pollIntervalMs !== undefined) next.pollIntervalMs = changes.pollIntervalMs;
    if (next.threshold !== this.options.threshold || next.pollIntervalMs !== this.options.pollIntervalMs) this.lastPoll = -Infinity;
    this.options = next;
  }

  accepting(): Promise<boolean> {
    // A failed poll is cached like a good one, so a failing Redis is not asked more often either.
    if (this.options.now() - this.lastPoll < this.options.pollIntervalMs) return this.cached();
    this.inFlight ??= this.poll().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /**
   * Redis itself refused a write for memory (an OOM reply): answer "not accepting" until the
   * next poll, which then reads the real figures again.
   */
  refuse(): void {
    this.last = { ok: true, accepting: false };
    this.lastPoll = this.options.now();
  }

  private cached(): Promise<boolean> {
    return this.last.ok ? Promise.resolve(this.last.accepting) : Promise.reject(this.last.error);
  }

  private async poll(): Promise<boolean> {
    try {
      this.last = { ok: true, accepting: decide(await this.readInfo(), this.options.threshold) };
    } catch (err) {
      const error = err instanceof ReplicationError
        ? err
        : new ReplicationError('memory_check_failed', `cannot read the local Redis memory use: ${errorMessage(err)}`, { cause: err });
      this.last = { ok: false, error };
    }
    this.lastPoll = this.options.now();
    return this.cached();
  }
}

/** The answer from an `INFO memory` reply; throws when the reply lacks the figures. */
export function decide(info: string, threshold: number): boolean {
  const used = field(info, 'used_memory');
  const max = field(info, 'maxmemory');
  // maxmemory 0 means no limit: Redis never refuses a write for memory.
  return max === 0 || used < max * threshold;
}

function field(info: string, name: string): number {
  const raw = new RegExp(`^${name}:(\\d+)\\r?$`, 'm').exec(info)?.[1];
  if (raw === undefined) {
    throw new ReplicationError('memory_check_failed', `INFO memory from the local Redis has no ${name} figure`);
  }
  return Number(raw);
}
