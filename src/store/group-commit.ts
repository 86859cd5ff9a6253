/**
 * Group commit: concurrent requests coalesce into one call, as a database's log writer does. A request
 * is sent at once when fewer than `maxInFlight` calls are waiting for Redis; otherwise it queues, and
 * the next call takes every queued request up to `maxCount` and `maxBytes` (one bigger request goes
 * alone). Under no load a write costs one call as before; under load, one script call carries many.
 *
 * Guarantees the store builds on:
 * - requests are sent in the order they were submitted, batches in that order too (one connection:
 *   Redis runs them in order), so writes to one key are applied in submission order;
 * - each request settles exactly once, with its own result or error: one bad request fails alone;
 *   a call that fails as a whole (a dropped connection) fails every request it carried;
 * - a request settles only when its call has been answered: an acknowledged write is in Redis.
 * Pure logic: the call itself is injected.
 */

/** What a call answers for each request it carried, in order. */
export type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };

export interface GroupCommitOptions<Req> {
  /** Calls sent and not yet answered, at most (≥ 1). */
  readonly maxInFlight: number;
  /** Requests per call, at most (≥ 1). */
  readonly maxCount: number;
  /** Bytes per call, at most, by `sizeOf` (read at each call: a reload may change it); a single request bigger than this goes alone. */
  readonly maxBytes: () => number;
  readonly sizeOf: (req: Req) => number;
}

interface Pending<Req, Res> {
  readonly req: Req;
  readonly size: number;
  resolve(value: Res): void;
  reject(error: Error): void;
}

export class GroupCommit<Req, Res> {
  /** Waiting requests from `head` on; taken slots are cleared at once, so a sent write's content is not held here. */
  private readonly queue: (Pending<Req, Res> | undefined)[] = [];
  private head = 0;
  private calls = 0;

  constructor(
    private readonly send: (batch: readonly Req[]) => Promise<readonly Settled<Res>[]>,
    private readonly options: GroupCommitOptions<Req>,
  ) {
    for (const name of ['maxInFlight', 'maxCount'] as const) {
      if (!Number.isSafeInteger(options[name]) || options[name] < 1) throw new RangeError(`GroupCommit: ${name} must be a positive integer, got ${options[name]}`);
    }
  }

  /** Requests waiting for a call. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Calls sent and not yet answered. */
  get inFlight(): number {
    return this.calls;
  }

  submit(req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ req, size: this.options.sizeOf(req), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.calls < this.options.maxInFlight && this.queued > 0) this.dispatch(this.takeBatch());
  }

  private takeBatch(): Pending<Req, Res>[] {
    const batch: Pending<Req, Res>[] = [];
    let bytes = 0;
    const maxBytes = this.options.maxBytes();
    while (this.queued > 0 && batch.length < this.options.maxCount) {
      const next = this.queue[this.head]!;
      if (batch.length > 0 && bytes + next.size > maxBytes) break;
      batch.push(next);
      bytes += next.size;
      this.queue[this.head++] = undefined;
    }
    // Compact: at once when empty, else now and then (a shift per request would be O(n)).
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return batch;
  }

  private dispatch(batch: Pending<Req, Res>[]): void {
    this.calls++;
    let reply: Promise<readonly Settled<Res>[]>;
    try {
      reply = this.send(batch.map((p) => p.req));
    } catch (err) {
      reply = Promise.reject(err);
    }
    // The next call goes out before this one's requests are settled: Redis gets it a turn sooner.
    const done = (): void => {
      this.calls--;
      this.pump();
    };
    reply.then(
      (results) => {
        done();
        if (results.length !== batch.length) {
          const error = new Error(`group commit: the call answered ${results.length} results for ${batch.length} requests`);
          for (const p of batch) p.reject(error);
          return;
        }
        batch.forEach((p, i) => {
          const r = results[i]!;
          if (r.ok) p.resolve(r.value);
          else p.reject(r.error);
        });
      },
      (err: unknown) => {
        done();
        const error = err instanceof Error ? err : new Error(String(err));
        for (const p of batch) p.reject(error);
      },
    );
  }
}
