/**
 * Where a tailer stands in the peer's stream, and the entries it has read beyond the batches it
 * dispatched (docs/hot-path.md, "Read-ahead and the apply window").
 *
 * Three ids, each with one meaning:
 * - `durable` — the cursor: the last entry whose batch is applied (and its cursor written). Only
 *   the finishing of an applied batch moves it, in order; a gap that finds the peer behind resets it.
 * - `dispatched` — where the next read continues: the end of the last batch sent to the store.
 *   Ahead of `durable` while batches are in flight; rewound to it when an apply fails.
 * - `ahead` — the id the outstanding read-ahead continues after, or null. Its entries are used only
 *   if it still equals `dispatched` when the loop gets to them.
 *
 * The cursor is only ever persisted after the batch ending at it is applied: reading ahead never
 * moves `durable`, so a crash replays at most the batches in flight.
 */
import type { RawStreamEntry } from '../peer/peer-connection.js';

/** One XREAD's entries, with what the loop's bookkeeping needs. */
export interface ReadBatch {
  /** The id the read continued after. */
  from: string;
  raw: RawStreamEntry[];
  requested: number;
  readMs: number;
  /** The entries a previous batch of the same read left for the next (max_batch_bytes): not read again. */
  leftover?: boolean;
  /** A single entry larger than any valid one: skipped as rejected, so the cursor moves on. */
  oversized?: { id: string; message: string };
}

export class ReadPositions {
  durable: string;
  dispatched: string;
  ahead: string | null = null;

  constructor(durable: string) {
    this.durable = durable;
    this.dispatched = durable;
  }

  /** A batch ending at `id` is in the apply window. */
  dispatch(id: string): void {
    this.dispatched = id;
  }

  /** An apply failed: what was dispatched after the durable cursor is read again. */
  rewind(): void {
    this.dispatched = this.durable;
  }

  /** The peer's stream was replaced: read it from `id` (its start). */
  reset(id: string): void {
    this.durable = id;
    this.dispatched = id;
  }
}

/** A read issued ahead: `from` is the id it continues after. */
export interface PendingRead {
  readonly from: string;
  readonly result: Promise<ReadBatch | null>;
}

/**
 * The entries read and not yet dispatched: the rest of a read too large for one batch
 * (`leftover`), and the read issued while the current batch is applied (`pending`). Both are used
 * only if they continue from `dispatched` when the loop gets to them; otherwise (a batch before
 * them failed to apply, or a gap reset the cursor) they are dropped, a read-ahead once it has
 * settled, so that two reads never queue on the stream connection. Synchronous on purpose: the
 * loop awaits the read itself, nothing more per batch.
 */
export class ReadAhead {
  private pending: PendingRead | null = null;
  private leftover: ReadBatch | null = null;

  constructor(readonly positions: ReadPositions) {}

  /** Issues the next read after `from` now, its round trip overlapping the work on this batch. */
  start(from: string, result: Promise<ReadBatch | null>): void {
    this.positions.ahead = from;
    this.pending = { from, result };
  }

  /** Keeps the entries of a read after `consumed` for the next batch (none: `consumed` is all). */
  keepRest(read: readonly RawStreamEntry[], consumed: number): void {
    this.leftover = consumed < read.length
      ? { from: this.positions.dispatched, raw: read.slice(consumed), requested: 0, readMs: 0, leftover: true }
      : null;
  }

  /** The leftover if it continues from `dispatched` (and not stopping); dropped either way. */
  takeLeftover(stopping: boolean): ReadBatch | null {
    const leftover = this.leftover;
    this.leftover = null;
    return leftover && leftover.from === this.positions.dispatched && !stopping ? leftover : null;
  }

  /** The read-ahead, if any, taken: await its result, then ask `continues` whether to use it. */
  takePending(): PendingRead | null {
    const pending = this.pending;
    this.pending = null;
    this.positions.ahead = null;
    return pending;
  }

  /** Whether a read-ahead, now settled, still continues from where the loop reads. */
  continues(read: PendingRead): boolean {
    return read.from === this.positions.dispatched;
  }
}
