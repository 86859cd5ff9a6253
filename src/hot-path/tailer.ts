/**
 * One peer's hot path (DESIGN §6):
 *   circuit → backpressure → XREAD COUNT n BLOCK t → rate limit → decode/reject → drop own
 *   origin → collapse → one batched apply → persist cursor → metrics.
 * The cursor is persisted only after the batch is applied, so a crash replays at most the
 * batches in flight, which the LWW apply makes harmless. A failed apply never advances the
 * cursor. Up to APPLY_WINDOW_SIZE batches are applied at once (pipelined on the store's
 * connection, applied by Redis in order): see `dispatch` and apply-window.ts.
 */
import { STREAM_START, compareStreamIds } from '../cdc/stream-id.js';
import type { CursorStore } from '../cursor/cursor-store.js';
import type { HotPathSettings, SloSettings } from '../config/types.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { SloMonitor } from '../observability/slo.js';
import { startApplySpans } from '../observability/tracing.js';
import type { CircuitBreaker } from '../peer/circuit-breaker.js';
import { ExponentialBackoff } from '../peer/backoff.js';
import type { PeerConnection, RawStreamEntry } from '../peer/peer-connection.js';
import { ReplyTooLargeError } from '../peer/reply-guard.js';
import { zstdCompressBound } from '../cdc/compression.js';
import type { ApplyOutcome, SyncEngine } from '../store/sync-engine.js';
import type { Change } from '../model/change.js';
import { AimdBatchSizer } from './aimd.js';
import { ApplyWindow } from './apply-window.js';
import { detectGap, type GapKind } from './gap.js';
import { acceptableFromMs } from '../model/future-stamp.js';
import { LagTracker } from './lag.js';
import { prepareBatch, type PreparedBatch } from './prepare-batch.js';
import { ReadSizer } from './read-sizer.js';
import type { RecentStamps } from './recent-stamps.js';
import { TokenBucket } from './rate-limiter.js';
import { Sleeper } from './sleeper.js';

export interface TailerSettings {
  hotPath: HotPathSettings;
  slo: SloSettings;
  maxPayloadBytes: number;
  maxClockSkewMs: number;
  /** store.max_future_skew: entries stamped further ahead of the wall clock are held back (see prepare-batch). */
  maxFutureSkewMs: number;
  memoryPollIntervalMs: number;
}

/** Why the hot path asks the cold path for a repair: a gap, or changes it held back as too far ahead. */
export type HotPathRepairReason = GapKind | 'future_stamp';

export interface TailerDeps {
  peerId: string;
  localNodeId: string;
  connection: PeerConnection;
  store: SyncEngine;
  cursors: CursorStore;
  breaker: CircuitBreaker;
  metrics: EngineMetrics;
  logger: Logger;
  slo: SloMonitor;
  /** Asks the cold path to repair with this peer now (a gap the hot path cannot fill). */
  requestRepair: (peerId: string, reason: HotPathRepairReason) => void;
  /** Stamps the local store is known to hold, shared by the engine's tailers (see RecentStamps). */
  recentStamps?: RecentStamps;
  now?: () => number;
}

export interface TailerStatus {
  running: boolean;
  cursor: string;
  lagMs: number;
  lagEvents: number;
  catchingUp: boolean;
  batchSize: number;
  paused: 'backpressure' | 'circuit_open' | null;
  lastError: string | null;
  /** When entries last arrived from the peer (ms); null before the first. Idle peers get health pings. */
  lastEventAt: number | null;
  /** Since this tailer started (the metrics carry the same counts, labelled by reason). */
  counters: TailerCounters;
}

export interface TailerCounters {
  eventsRead: number;
  eventsApplied: number;
  /** Own-origin, seen, collapsed repeats, stale and duplicate: read but not applied, harmlessly. */
  eventsDeduped: number;
  /** Bad entries: logged with their id and reason, skipped. */
  eventsRejected: number;
  batches: number;
  gaps: number;
}

const STREAM_INFO_INTERVAL_MS = 1000;
/**
 * Batches whose apply may be outstanding at once. Two keep the local Redis busy: it applies one
 * while this process decodes and encodes the next, instead of idling between batches (measured
 * in BENCHMARKS.md). More would only queue in Redis and hold memory.
 */
export const APPLY_WINDOW_SIZE = 2;

/** One XREAD's entries, with what the loop's bookkeeping needs. */
interface ReadBatch {
  /** The id the read continued after. */
  from: string;
  raw: RawStreamEntry[];
  requested: number;
  readMs: number;
  /** The entries a previous batch of the same read left for the next (max_batch_bytes): not read again. */
  leftover?: boolean;
  /** A single entry larger than any valid one (see read): skipped as rejected, so the cursor moves on. */
  oversized?: { id: string; message: string };
}

/** Room for an entry's key, hash, meta, field names and RESP framing beyond its data. */
const ENTRY_OVERHEAD_BYTES = 64 * 1024;

/** A dispatched batch, as its finishing needs it (see dispatch). */
interface SentBatch {
  /** The id the batch was read after, and its last entry's id. */
  from: string;
  lastId: string;
  /** Entries read, applied or not. */
  count: number;
  /** The changes sent to the store, in order. */
  changes: { key: string; hlc: string; origin: string; updatedAt: number }[];
}

const stampOf = (c: Change): SentBatch['changes'][number] => ({ key: c.key, hlc: c.hlc, origin: c.origin, updatedAt: c.updatedAt });

/**
 * The next batch's read, issued while the current batch is being applied. `from` is the id it
 * reads after: it is used only if the read position is exactly there when the loop gets to it;
 * otherwise (a batch before it failed, or a gap reset the cursor) it is discarded.
 */
interface ReadAhead {
  from: string;
  result: Promise<ReadBatch | null>;
}

export class StreamTailer {
  private readonly d: TailerDeps;
  private readonly now: () => number;
  private settings: TailerSettings;
  private aimd: AimdBatchSizer;
  private bucket: TokenBucket;
  private readonly lag = new LagTracker();
  private readonly sleeper = new Sleeper();
  private readonly retry = new ExponentialBackoff({ baseMs: 100, maxMs: 5000, jitter: 'equal' });
  private cursor: string;
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private lastInfoAt = -Infinity;
  private lastGapSignal: string | null = null;
  private catchingUp = true;
  private paused: TailerStatus['paused'] = null;
  private lastError: string | null = null;
  /** The last cursor write failure, null once a write succeeds. */
  private cursorError: string | null = null;
  private lastEventAt: number | null = null;
  private readonly counters: TailerCounters = { eventsRead: 0, eventsApplied: 0, eventsDeduped: 0, eventsRejected: 0, batches: 0, gaps: 0 };
  private ahead: ReadAhead | null = null;
  /** Entries of the last read beyond the batch made of it (see prepareBatch's consumed). */
  private leftover: ReadBatch | null = null;
  private readonly sizer: ReadSizer;
  /**
   * Where the next read continues: the end of the last batch dispatched. Ahead of `cursor` while
   * batches are in flight; put back to `cursor` when an apply fails or a gap resets the cursor.
   */
  private position: string;
  /** The batches dispatched and not yet finished (see `dispatch`). */
  private readonly window = new ApplyWindow(APPLY_WINDOW_SIZE);
  /** An apply failed: the loop backs off before reading again. */
  private applyFailed = false;
  /**
   * When the earliest change held back as too far ahead comes within max_future_skew (ms; Infinity:
   * none held). The cursor moves past such a change (holding it would let one forged stamp stall
   * the stream until its date); the peer still holds it, so once the clock has caught up the
   * tailer asks the cold path for a repair, which brings it.
   */
  private futureDueAt = Number.POSITIVE_INFINITY;

  constructor(deps: TailerDeps, settings: TailerSettings) {
    this.d = deps;
    this.now = deps.now ?? Date.now;
    this.settings = settings;
    this.aimd = this.makeAimd(settings.hotPath);
    this.bucket = this.makeBucket(settings.hotPath);
    this.sizer = new ReadSizer(settings.hotPath.max_read_bytes);
    this.cursor = deps.cursors.get(deps.peerId) ?? STREAM_START;
    this.position = this.cursor;
  }

  start(): void {
    if (this.loopDone) return;
    this.stopping = false;
    this.loopDone = this.loop();
  }

  /** Stops reading, lets the batches in flight finish (their cursor persisted), then resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.wakeAll();
    this.d.connection.interruptRead();
    await this.loopDone;
    this.loopDone = null;
  }

  /** New settings take effect from the next read. */
  updateSettings(settings: TailerSettings): void {
    const h = settings.hotPath;
    const old = this.settings.hotPath;
    if (h.batch_size !== old.batch_size || h.min_batch_size !== old.min_batch_size || h.max_batch_size !== old.max_batch_size ||
      h.adaptive_batch_size !== old.adaptive_batch_size) {
      this.aimd = this.makeAimd(h);
    }
    if (h.rate_limit_per_sec !== old.rate_limit_per_sec || h.rate_limit_burst !== old.rate_limit_burst) this.bucket = this.makeBucket(h);
    this.sizer.setMaxReadBytes(h.max_read_bytes);
    this.settings = settings;
    this.sleeper.wakeAll();
  }

  status(): TailerStatus {
    return {
      running: this.loopDone !== null && !this.stopping,
      cursor: this.cursor,
      lagMs: this.lag.lagMs,
      lagEvents: this.lag.lagEvents,
      catchingUp: this.catchingUp,
      batchSize: this.aimd.current,
      paused: this.paused,
      lastError: this.lastError,
      lastEventAt: this.lastEventAt,
      counters: { ...this.counters },
    };
  }

  private makeAimd(h: HotPathSettings): AimdBatchSizer {
    return new AimdBatchSizer({ initial: h.batch_size, min: Math.min(h.min_batch_size, h.batch_size), max: Math.max(h.max_batch_size, h.batch_size), enabled: h.adaptive_batch_size });
  }

  private makeBucket(h: HotPathSettings): TokenBucket {
    return new TokenBucket({ ratePerSec: h.rate_limit_per_sec, burst: h.rate_limit_burst, now: this.now });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
      } catch (err) {
        // step() handles peer and store failures itself; anything here is a bug, never a crash.
        this.d.logger.error({ peer_id: this.d.peerId, err }, 'hot path: unexpected error');
        await this.sleeper.sleep(this.retry.next());
      }
    }
    await this.window.drain();
  }

  private async step(): Promise<void> {
    const { peerId, breaker, metrics } = this.d;
    // A full window: wait for the oldest batch before reading another. Here rather than right
    // after dispatching, so that the step which read a batch does not hold it meanwhile.
    await this.window.waitForRoom();
    if (!breaker.canRequest()) {
      this.paused = 'circuit_open';
      this.lag.unreachable(this.now());
      this.publishLag();
      await this.sleeper.sleep(250);
      return;
    }
    if (this.applyFailed) {
      // Everything dispatched after the failed batch is dropped unfinished (see finish); once it
      // has settled, back off and read again from the cursor.
      await this.window.drain();
      this.applyFailed = false;
      this.position = this.cursor;
      await this.sleeper.sleep(this.retry.next());
      return;
    }
    if (!(await this.storeAccepting())) {
      // Paused, not blind: the peer still answers on the query connection, so lag stays measured.
      if (this.paused === 'backpressure' && this.now() - this.lastInfoAt >= STREAM_INFO_INTERVAL_MS && breaker.canRequest()) {
        await this.peerCall(() => this.refreshStreamInfo());
      }
      return;
    }
    this.paused = null;
    if (this.now() >= this.futureDueAt) {
      this.futureDueAt = Number.POSITIVE_INFINITY;
      this.d.requestRepair(peerId, 'future_stamp');
    }

    if (this.now() - this.lastInfoAt >= STREAM_INFO_INTERVAL_MS) {
      if (!(await this.peerCall(() => this.refreshStreamInfo()))) return;
    }

    const h = this.settings.hotPath;
    const read = await this.nextRead();
    if (read === null || (this.stopping && read.raw.length === 0)) return;
    const { raw, requested, readMs } = read;
    if (!read.leftover) {
      metrics.streamReadDuration.labels(peerId).observe(readMs / 1000);
      this.aimd.next(raw.length, requested);
      this.sizer.observe(raw);
      metrics.batchSize.labels(peerId).set(this.aimd.current);
    }
    if (raw.length === 0) {
      this.setCatchingUp(false);
      return;
    }
    this.lastEventAt = this.now();
    if (!read.leftover) {
      if (this.catchingUp) this.d.slo.check(peerId, 'stream_read_latency', readMs, this.settings.slo.max_stream_read_latency_ms, 'ms');
      this.setCatchingUp(raw.length >= requested);
      // A full read means more entries are waiting: fetch them while this batch is decoded and sent.
      if (raw.length >= requested && !h.rate_limit_enabled && !this.stopping) this.readAhead(raw[raw.length - 1]!.id);
    }

    // Stopped while waiting: the batch is not dispatched; the cursor is before it, so it is read again.
    // A leftover's tokens were taken with its read.
    if (h.rate_limit_enabled && !read.leftover && !(await this.waitForTokens(raw.length))) return;
    // Read from where a failed batch left off: dropped, read again after the back-off.
    if (this.applyFailed) return;
    if (read.oversized) {
      const { id, message } = read.oversized;
      this.dispatch(read.from, raw, { consumed: 1, winners: [], rejected: [{ id, reason: 'too_large', message }], ownOrigin: 0, seen: 0, collapsed: 0, skewed: [], future: [], traceParentsDropped: 0 });
      this.position = id;
      return;
    }
    const batch = this.prepare(raw);
    const taken = batch.consumed < raw.length ? raw.slice(0, batch.consumed) : raw;
    this.dispatch(read.from, taken, batch);
    // Only once the batch is in the window: had anything above thrown, the next step reads it again.
    this.position = taken[taken.length - 1]!.id;
    this.leftover = taken === raw ? null : { from: this.position, raw: raw.slice(batch.consumed), requested: 0, readMs: 0, leftover: true };
  }

  /**
   * Waits until the rate limiter lets `n` entries through; false when the tailer stops meanwhile.
   * A stop or a reload cuts the wait short: a reload that changed the rate takes the tokens from
   * the new bucket, one that turned limiting off lets the batch through at once.
   */
  private async waitForTokens(n: number): Promise<boolean> {
    let bucket = this.bucket;
    let until = this.now() + bucket.take(n);
    let counted = false;
    while (!this.stopping) {
      if (!this.settings.hotPath.rate_limit_enabled) return true;
      if (bucket !== this.bucket) {
        bucket = this.bucket;
        until = this.now() + bucket.take(n);
      }
      const waitMs = until - this.now();
      if (waitMs <= 0) return true;
      if (!counted) this.d.metrics.rateLimitWaits.labels(this.d.peerId).inc();
      counted = true;
      await this.sleeper.sleep(Math.ceil(waitMs));
    }
    return false;
  }

  /**
   * The batch after the read position: the read-ahead when it continues from there, else a fresh
   * read. A read-ahead that does not (a batch before it failed to apply, or a gap reset the
   * cursor) is awaited and dropped first, so two reads never queue on the stream connection.
   */
  private async nextRead(): Promise<ReadBatch | null> {
    const leftover = this.leftover;
    this.leftover = null;
    // Before the read-ahead, which continues after the leftover's last entry.
    if (leftover && leftover.from === this.position && !this.stopping) return leftover;
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead) {
      const result = await ahead.result;
      if (ahead.from === this.position) return result;
    }
    if (this.stopping) return null;
    return this.read(this.position);
  }

  private async read(from: string): Promise<ReadBatch | null> {
    const h = this.settings.hotPath;
    const requested = this.sizer.limit(h.rate_limit_enabled ? Math.min(this.aimd.current, h.rate_limit_burst) : this.aimd.current);
    const t0 = this.now();
    // Twice the target (a read sized from earlier entries may meet somewhat larger ones), and
    // never less than the largest valid entry, which must always pass alone.
    const maxReplyBytes = Math.max(2 * h.max_read_bytes, zstdCompressBound(this.settings.maxPayloadBytes) + ENTRY_OVERHEAD_BYTES);
    const raw = await this.peerCall(() => this.d.connection.read(from, requested, h.block_timeout, maxReplyBytes)
      .catch((err: unknown) => (err instanceof ReplyTooLargeError ? err : Promise.reject(err))));
    if (raw instanceof ReplyTooLargeError) return this.onReplyTooLarge(from, raw);
    return raw === null ? null : { from, raw, requested, readMs: this.now() - t0 };
  }

  /**
   * A reply past the bound was dropped. Several entries: read one at a time until their sizes are
   * known again. One entry: larger than any valid entry, so skipped as rejected (too_large), by
   * the id the reply's head showed, instead of being read again and again.
   */
  private async onReplyTooLarge(from: string, err: ReplyTooLargeError): Promise<ReadBatch | null> {
    const { peerId, logger } = this.d;
    if (err.count > 1) {
      this.sizer.shrink();
      logger.warn({ peer_id: peerId, cursor: from, count: err.count, max_reply_bytes: err.bytes }, 'XREAD reply too large: reading one entry at a time');
      return null;
    }
    if (err.firstId !== null && compareStreamIds(err.firstId, from) > 0) {
      const message = `entry is larger than ${err.bytes} bytes, more than any valid entry`;
      return { from, raw: [{ id: err.firstId, fields: [] }], requested: 1, readMs: 0, oversized: { id: err.firstId, message } };
    }
    this.lastError = err.message;
    logger.error({ peer_id: peerId, cursor: from, err }, 'XREAD of one entry too large and its id unknown; retrying');
    await this.sleeper.sleep(this.retry.next());
    return null;
  }

  /**
   * Read-ahead of one batch (DESIGN §6 keeps its promise: the cursor is only ever persisted after
   * the batch ending at it is applied). The XREAD's round trip overlaps the work on this batch; the
   * entries are decoded when the loop takes them, while the batches in the apply window are being
   * applied (decoding them at once held one more decoded batch in memory for no measurable gain:
   * BENCHMARKS.md). The circuit breaker still sees the call; a read that fails resolves to null
   * and is retried.
   */
  private readAhead(from: string): void {
    if (!this.d.breaker.canRequest()) return;
    this.ahead = { from, result: this.read(from) };
  }

  private prepare(raw: readonly RawStreamEntry[]): PreparedBatch {
    const recent = this.d.recentStamps;
    return prepareBatch(raw, {
      peerId: this.d.peerId, localNodeId: this.d.localNodeId, maxPayloadBytes: this.settings.maxPayloadBytes,
      maxClockSkewMs: this.settings.maxClockSkewMs, maxFutureSkewMs: this.settings.maxFutureSkewMs, nowMs: this.now(),
      maxBatchBytes: this.settings.hotPath.max_batch_bytes,
      ...(recent ? { seen: (key, stamp) => recent.covers(key, stamp) } : {}),
    });
  }

  /**
   * Starts applying one batch. The apply is sent at once, so Redis queues it behind the batch
   * still applying; its finishing (metrics, cursor) waits for every earlier batch's, so the cursor
   * only ever moves forward over applied batches, in order.
   */
  private dispatch(from: string, raw: readonly RawStreamEntry[], batch: PreparedBatch): void {
    this.countRead(raw, batch);
    const t0 = this.now();
    const spans = batch.winners.length > 0 ? startApplySpans(this.d.peerId, batch.winners) : null;
    const applied = spans === null ? Promise.resolve([]) : this.apply(batch.winners);
    // What finishing needs, without the entries and contents: a batch waits in the window for the
    // one before it, and holding its bytes that long would keep them past several collections.
    const sent: SentBatch = { from, lastId: raw[raw.length - 1]!.id, count: raw.length, changes: batch.winners.map(stampOf) };
    this.window.add(applied, (result) => {
      if (Array.isArray(result)) spans?.end(result);
      else spans?.end(null, result.error);
      try {
        return this.finish(sent, result, this.now() - t0);
      } catch (err) {
        // A bug, not a store failure: handled like one, so later batches are not stuck behind it.
        return this.onApplyFailed({ error: err });
      }
    });
  }

  /** The store's apply, its failure as a value: a store that throws instead of rejecting included. */
  private apply(changes: readonly Change[]): Promise<ApplyOutcome[] | { error: unknown }> {
    try {
      return this.d.store.applyChanges(changes).catch((error: unknown) => ({ error }));
    } catch (error) {
      return Promise.resolve({ error });
    }
  }

  /** Read-side counters and logs of one batch, as soon as it is read. */
  private countRead(raw: readonly RawStreamEntry[], batch: PreparedBatch): void {
    const { peerId, metrics, logger } = this.d;
    metrics.eventsRead.labels(peerId).inc(raw.length);
    this.counters.eventsRead += raw.length;
    this.counters.eventsRejected += batch.rejected.length;
    this.counters.eventsDeduped += batch.ownOrigin + batch.seen + batch.collapsed;
    for (const r of batch.rejected) {
      metrics.eventsRejected.labels(peerId, r.reason).inc();
      logger.warn({ peer_id: peerId, entry_id: r.id, reason: r.reason }, `rejected CDC entry: ${r.message}`);
    }
    if (batch.ownOrigin) metrics.eventsDeduped.labels(peerId, 'own_origin').inc(batch.ownOrigin);
    if (batch.seen) metrics.eventsDeduped.labels(peerId, 'seen').inc(batch.seen);
    if (batch.collapsed) metrics.eventsDeduped.labels(peerId, 'collapsed').inc(batch.collapsed);
    for (const e of batch.skewed) {
      metrics.clockSkew.labels(peerId).inc();
      logger.warn({ peer_id: peerId, entry_id: e.id, key: e.key, hlc: e.hlc, origin: e.origin }, 'received stamp is far ahead of the local clock (applied anyway)');
    }
    if (batch.traceParentsDropped) metrics.traceParentsDropped.labels(peerId).inc(batch.traceParentsDropped);
    for (const e of batch.future) this.holdBack(e.key, e.hlc, e.origin, e.id);
  }

  /** Counts and logs a change refused as too far ahead, and notes when the cold path can bring it. */
  private holdBack(key: string, hlc: string, origin: string, entryId: string | null): void {
    const { peerId, metrics, logger } = this.d;
    const from = acceptableFromMs(hlc, this.settings.maxFutureSkewMs);
    metrics.futureStamps.labels(peerId, 'hot').inc();
    logger.warn({ peer_id: peerId, entry_id: entryId, key, hlc, origin, max_future_skew_ms: this.settings.maxFutureSkewMs,
      accepted_from: Number.isFinite(from) ? new Date(from).toISOString() : null },
    'refused a change stamped too far ahead of the local clock: not applied; the cold path brings it once the clock has caught up');
    if (from < this.futureDueAt) this.futureDueAt = from;
  }

  /**
   * Moves the cursor over one batch whose apply settled, the batches before it being finished.
   * A batch that does not continue from the cursor is dropped: a batch before it failed (or a
   * gap reset the cursor), and its entries will be read and applied again from the cursor.
   */
  private finish(sent: SentBatch, result: ApplyOutcome[] | { error: unknown }, flushMs: number): boolean {
    const { peerId, metrics } = this.d;
    if (sent.from !== this.cursor) return false;
    if (!Array.isArray(result)) return this.onApplyFailed(result);
    if (sent.changes.length > 0) {
      metrics.batchFlushes.labels(peerId).inc();
      this.counters.batches++;
      metrics.batchFlushDuration.labels(peerId).observe(flushMs / 1000);
      this.d.slo.check(peerId, 'batch_flush_latency', flushMs, this.settings.slo.max_batch_flush_latency_ms, 'ms');
      const now = this.now();
      const applyLag = metrics.applyLag.labels(peerId); // one label lookup per batch, not per change
      let applied = 0;
      const recent = this.d.recentStamps;
      result.forEach((o, i) => {
        // Applied, duplicate or stale: the store now holds the key at this stamp or a later one.
        const change = sent.changes[i]!;
        if (o === 'future') {
          // The store's own bound refused it: nothing is held for the key (not recorded as seen).
          this.holdBack(change.key, change.hlc, change.origin, null);
          return;
        }
        if (recent) recent.record(change.key, change);
        if (o === 'applied') {
          applied++;
          applyLag.observe(Math.max(0, now - change.updatedAt) / 1000);
        } else metrics.eventsDeduped.labels(peerId, o).inc();
      });
      metrics.eventsApplied.labels(peerId).inc(applied);
      this.counters.eventsApplied += applied;
      this.counters.eventsDeduped += result.filter((o) => o !== 'applied' && o !== 'future').length;
    }
    this.retry.reset();
    this.lastError = null;
    this.lag.onRead(sent.count);
    this.advanceCursor(sent.lastId);
    return true;
  }

  /** The local store failed: keep the cursor, back off, read the same entries again. */
  private onApplyFailed({ error }: { error: unknown }): false {
    this.lastError = `apply: ${error instanceof Error ? error.message : String(error)}`;
    this.d.logger.error({ peer_id: this.d.peerId, err: error }, 'hot path: applying a batch to the local store failed; will retry');
    this.position = this.cursor;
    this.applyFailed = true;
    return false;
  }

  private advanceCursor(id: string): void {
    this.cursor = id;
    try {
      this.d.cursors.set(this.d.peerId, id);
      this.cursorError = null;
    } catch (err) {
      // In memory the tailer goes on (a replay is harmless under last-writer-wins); on restart at
      // most the batches since the last good write replay. The node reports itself not ready
      // meanwhile (engine status cursor_error). Logged once per distinct failure, not per batch.
      this.d.metrics.cursorErrors.inc();
      const text = err instanceof Error ? err.message : String(err);
      if (text !== this.cursorError) this.d.logger.error({ peer_id: this.d.peerId, err }, 'could not persist cursor');
      this.cursorError = text;
    }
  }

  private async refreshStreamInfo(): Promise<void> {
    const { peerId, metrics, logger } = this.d;
    const info = await this.d.connection.streamInfo();
    this.lastInfoAt = this.now();
    const gap = detectGap(this.cursor, info);
    if (gap) {
      const signal = `${gap}:${info?.maxDeletedId ?? ''}:${info?.lastGeneratedId ?? ''}`;
      if (signal !== this.lastGapSignal) {
        this.lastGapSignal = signal;
        metrics.streamGaps.labels(peerId, gap).inc();
        this.counters.gaps++;
        logger.warn({ peer_id: peerId, kind: gap, cursor: this.cursor, last_id: info?.lastGeneratedId, max_deleted_id: info?.maxDeletedId },
          gap === 'trimmed' ? 'gap: the peer trimmed entries we had not read; requesting a cold-path repair'
            : 'gap: the peer stream is behind our cursor (peer data loss?); reading it from the start and requesting a cold-path repair');
        if (gap === 'peer_behind') {
          // Batches in flight finish first, so none moves the cursor after this reset.
          await this.window.drain();
          this.lag.reset();
          this.advanceCursor(STREAM_START);
          this.position = STREAM_START;
        }
        this.d.requestRepair(peerId, gap);
      }
    }
    this.lag.observe(this.cursor, info, this.lastInfoAt);
    if (info && compareStreamIds(this.cursor, info.lastGeneratedId) < 0 && this.lag.lagEvents > this.settings.hotPath.max_batch_size) {
      this.setCatchingUp(true);
    }
    this.publishLag();
  }

  /** Lag gauges and the lag SLO, from the tracker's current values. */
  private publishLag(): void {
    const { peerId, metrics } = this.d;
    metrics.lagMs.labels(peerId).set(this.lag.lagMs);
    metrics.lagEvents.labels(peerId).set(this.lag.lagEvents);
    this.d.slo.check(peerId, 'replication_lag', this.lag.lagMs / 1000, this.settings.slo.max_replication_lag_sec, 's');
  }

  /** Runs a call to the peer through the circuit breaker; null when it failed. */
  private async peerCall<T>(call: () => Promise<T>): Promise<T | null> {
    try {
      const result = await call();
      this.d.breaker.onSuccess();
      return result;
    } catch (err) {
      if (this.stopping) return null;
      this.d.breaker.onFailure();
      this.d.metrics.peerErrors.labels(this.d.peerId).inc();
      this.lastError = err instanceof Error ? err.message : String(err);
      this.lastInfoAt = -Infinity; // re-check for gaps once the peer is back
      this.lag.unreachable(this.now());
      this.publishLag();
      this.d.logger.debug({ peer_id: this.d.peerId, err: this.lastError }, 'peer call failed');
      await this.sleeper.sleep(this.retry.next());
      return null;
    }
  }

  private async storeAccepting(): Promise<boolean> {
    let accepting: boolean;
    try {
      accepting = await this.d.store.shouldAcceptWrites();
    } catch (err) {
      this.lastError = `local store: ${err instanceof Error ? err.message : String(err)}`;
      await this.sleeper.sleep(this.retry.next());
      return false;
    }
    if (accepting) return true;
    if (this.paused !== 'backpressure') {
      this.paused = 'backpressure';
      this.d.metrics.backpressurePauses.labels(this.d.peerId).inc();
      this.d.logger.warn({ peer_id: this.d.peerId }, 'backpressure: local Redis memory above threshold; pausing reads');
    }
    await this.sleeper.sleep(this.settings.memoryPollIntervalMs);
    return false;
  }

  private setCatchingUp(value: boolean): void {
    this.catchingUp = value;
    this.d.metrics.peerCatchingUp.labels(this.d.peerId).set(value ? 1 : 0);
  }
}
