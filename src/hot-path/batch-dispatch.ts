/**
 * Dispatch and finish of a tailer's batches through the apply window (docs/hot-path.md,
 * "Read-ahead and the apply window"). A batch's apply is sent at once, so Redis queues it behind
 * the batch still applying; its finishing (metrics, cursor) waits for every earlier batch's, so the
 * durable cursor only ever moves forward over applied batches, in order. A failed apply never
 * moves it: the reads are rewound to it and the tailer is told (`onFailed`).
 */
import type { CursorStore } from '../cursor/cursor-store.js';
import type { Change } from '../model/change.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { SloMonitor } from '../observability/slo.js';
import { startApplySpans } from '../observability/tracing.js';
import type { RawStreamEntry } from '../peer/peer-connection.js';
import type { ApplyOutcome, LocalStore } from '../store/local-store.js';
import { ApplyWindow } from './apply-window.js';
import type { PreparedBatch } from './prepare-batch.js';
import type { ReadPositions } from './read-ahead.js';
import type { RecentStamps } from './recent-stamps.js';
import type { SentChange, TailerMetrics } from './tailer-metrics.js';
import { errorMessage } from '../errors.js';

/**
 * Batches whose apply may be outstanding at once. Two keep the local Redis busy: it applies one
 * while this process decodes and encodes the next, instead of idling between batches (measured
 * in BENCHMARKS.md). More would only queue in Redis and hold memory.
 */
export const APPLY_WINDOW_SIZE = 2;

export interface DispatchDeps {
  peerId: string;
  store: LocalStore;
  cursors: CursorStore;
  metrics: EngineMetrics;
  logger: Logger;
  slo: SloMonitor;
  recentStamps?: RecentStamps;
  now: () => number;
  positions: ReadPositions;
  accounting: TailerMetrics;
  /** A batch was applied and the cursor moved over its `count` entries. */
  onApplied: (count: number) => void;
  /** An apply failed (`message` for the status): the reads are already rewound to the cursor. */
  onFailed: (message: string) => void;
}

/** A dispatched batch, as its finishing needs it (see dispatch). */
interface SentBatch {
  /** The id the batch was read after, and its last entry's id. */
  from: string;
  lastId: string;
  /** Entries read, applied or not. */
  count: number;
  /** The changes sent to the store, in order. */
  changes: SentChange[];
}

const stampOf = (c: Change): SentChange => ({ key: c.key, hlc: c.hlc, origin: c.origin, updatedAt: c.updatedAt });

export class BatchDispatch {
  /** The batches dispatched and not yet finished. */
  private readonly window = new ApplyWindow(APPLY_WINDOW_SIZE);
  /** The last cursor write failure, null once a write succeeds. */
  private cursorError: string | null = null;
  /**
   * When the earliest change held back as too far ahead comes within max_future_skew (ms; Infinity:
   * none held). The cursor moves past such a change (holding it would let one forged stamp stall
   * the stream until its date); the peer still holds it, so once the clock has caught up the
   * tailer asks the cold path for a repair, which brings it.
   */
  private futureDueAt = Number.POSITIVE_INFINITY;
  private readonly holdBackRefused = (change: SentChange): void => this.holdBack(change.key, change.hlc, change.origin, null);

  private maxFutureSkewMs = 0;
  private maxBatchFlushLatencyMs = 0;

  constructor(private readonly deps: DispatchDeps) {}

  /** store.max_future_skew and the batch flush SLO: take effect from the next batch finished. */
  configure(maxFutureSkewMs: number, maxBatchFlushLatencyMs: number): void {
    this.maxFutureSkewMs = maxFutureSkewMs;
    this.maxBatchFlushLatencyMs = maxBatchFlushLatencyMs;
  }

  /** Resolves once the window has room for one more batch. */
  waitForRoom(): Promise<void> {
    return this.window.waitForRoom();
  }

  /** Resolves once every batch dispatched has finished. */
  drain(): Promise<void> {
    return this.window.drain();
  }

  /** True once a change held back as too far ahead can be brought by a repair (then forgotten). */
  futureDue(nowMs: number): boolean {
    if (nowMs < this.futureDueAt) return false;
    this.futureDueAt = Number.POSITIVE_INFINITY;
    return true;
  }

  /** Starts applying one batch, read after `from` (see the file's comment). */
  dispatch(from: string, raw: readonly RawStreamEntry[], batch: PreparedBatch): void {
    const { deps } = this;
    deps.accounting.countRead(raw.length, batch);
    for (const e of batch.future) this.holdBack(e.key, e.hlc, e.origin, e.id);
    const t0 = deps.now();
    const spans = batch.winners.length > 0 ? startApplySpans(deps.peerId, batch.winners) : null;
    const applied = spans === null ? Promise.resolve([]) : this.apply(batch.winners);
    // What finishing needs, without the entries and contents: a batch waits in the window for the
    // one before it, and holding its bytes that long would keep them past several collections.
    const sent: SentBatch = { from, lastId: raw[raw.length - 1]!.id, count: raw.length, changes: batch.winners.map(stampOf) };
    this.window.add(applied, (result) => {
      if (Array.isArray(result)) spans?.end(result);
      else spans?.end(null, result.error);
      try {
        return this.finish(sent, result, deps.now() - t0);
      } catch (err) {
        // A bug, not a store failure: handled like one, so later batches are not stuck behind it.
        return this.onApplyFailed({ error: err });
      }
    });
  }

  /** The peer's stream was replaced: read it from `id`, persisted as the cursor. Call with the window drained. */
  resetCursor(id: string): void {
    this.deps.positions.reset(id);
    this.persistCursor(id);
  }

  /** The store's apply, its failure as a value: a store that throws instead of rejecting included. */
  private apply(changes: readonly Change[]): Promise<ApplyOutcome[] | { error: unknown }> {
    try {
      return this.deps.store.applyChanges(changes).catch((error: unknown) => ({ error }));
    } catch (error) {
      return Promise.resolve({ error });
    }
  }

  /** A change refused as too far ahead: counted, logged, and noted for when the cold path can bring it. */
  private holdBack(key: string, hlc: string, origin: string, entryId: string | null): void {
    const from = this.deps.accounting.heldBack(key, hlc, origin, entryId, this.maxFutureSkewMs);
    if (from < this.futureDueAt) this.futureDueAt = from;
  }

  /**
   * Moves the cursor over one batch whose apply settled, the batches before it being finished.
   * A batch that does not continue from the cursor is dropped: a batch before it failed (or a
   * gap reset the cursor), and its entries will be read and applied again from the cursor.
   */
  private finish(sent: SentBatch, result: ApplyOutcome[] | { error: unknown }, flushMs: number): boolean {
    const { deps } = this;
    if (sent.from !== deps.positions.durable) return false;
    if (!Array.isArray(result)) return this.onApplyFailed(result);
    if (sent.changes.length > 0) {
      deps.slo.check(deps.peerId, 'batch_flush_latency', flushMs, this.maxBatchFlushLatencyMs, 'ms');
      deps.accounting.countApplied(sent.changes, result, flushMs, deps.now(), deps.recentStamps, this.holdBackRefused);
    }
    deps.onApplied(sent.count);
    deps.positions.durable = sent.lastId;
    this.persistCursor(sent.lastId);
    return true;
  }

  /** The local store failed: keep the cursor, rewind the reads to it. */
  private onApplyFailed({ error }: { error: unknown }): false {
    this.deps.logger.error({ peer_id: this.deps.peerId, err: error }, 'hot path: applying a batch to the local store failed; will retry');
    this.deps.positions.rewind();
    this.deps.onFailed(`apply: ${errorMessage(error)}`);
    return false;
  }

  private persistCursor(id: string): void {
    try {
      this.deps.cursors.set(this.deps.peerId, id);
      this.cursorError = null;
    } catch (err) {
      // In memory the tailer goes on (a replay is harmless under last-writer-wins); on restart at
      // most the batches since the last good write replay. The node reports itself not ready
      // meanwhile (engine status cursor_error). Logged once per distinct failure, not per batch.
      this.deps.metrics.cursorErrors.inc();
      const text = errorMessage(err);
      if (text !== this.cursorError) this.deps.logger.error({ peer_id: this.deps.peerId, err }, 'could not persist cursor');
      this.cursorError = text;
    }
  }
}
