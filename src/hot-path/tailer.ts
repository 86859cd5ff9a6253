/**
 * One peer's hot path (docs/hot-path.md, "The tailer, step by step"):
 *   circuit → backpressure → XREAD COUNT n BLOCK t → rate limit → decode/reject → drop own
 *   origin → collapse → one batched apply → persist cursor → metrics.
 * The cursor is persisted only after the batch is applied, so a crash replays at most the
 * batches in flight, which the LWW apply makes harmless. A failed apply never advances the
 * cursor. Up to APPLY_WINDOW_SIZE batches are applied at once (pipelined on the store's
 * connection, applied by Redis in order): see batch-dispatch.ts and apply-window.ts.
 *
 * This file is the loop and its calls to the peer. Its named state (tailer-state.ts), read
 * positions (read-ahead.ts), apply window (batch-dispatch.ts), stream watch (stream-watch.ts) and
 * metrics (tailer-metrics.ts) are modules of their own: the table in docs/hot-path.md.
 */
import { STREAM_START } from '../cdc/stream-id.js';
import type { HotPathSettings } from '../config/types.js';
import { ExponentialBackoff } from '../peer/backoff.js';
import { AimdBatchSizer } from './aimd.js';
import { BatchDispatch } from './batch-dispatch.js';
import { LagTracker } from './lag.js';
import { prepareBatch, type PrepareOptions } from './prepare-batch.js';
import { ReadAhead, ReadPositions, type ReadBatch } from './read-ahead.js';
import { RateGate } from './rate-gate.js';
import { Sleeper } from './sleeper.js';
import { StreamReader, readSettingsOf } from './stream-reader.js';
import { StreamWatch, farBehind } from './stream-watch.js';
import { TailerMetrics } from './tailer-metrics.js';
import { INITIAL_TAILER_STATE, isRetrying, isStopping, pauseOf, transition, type TailerEvent, type TailerState } from './tailer-state.js';
import type { TailerDeps, TailerSettings, TailerStatus } from './tailer-types.js';
import { errorMessage } from '../errors.js';

export type { TailerCounters } from './tailer-metrics.js';
export type { HotPathRepairReason, TailerDeps, TailerSettings, TailerStatus } from './tailer-types.js';
export { APPLY_WINDOW_SIZE } from './batch-dispatch.js';

export class StreamTailer {
  private readonly deps: TailerDeps;
  private readonly now: () => number;
  private settings!: TailerSettings;
  private aimd!: AimdBatchSizer;
  /** Resolved once per settings: a batch sets only `nowMs`. */
  private prepareOptions!: PrepareOptions;
  private readonly lag = new LagTracker();
  private readonly sleeper = new Sleeper();
  private readonly retry = new ExponentialBackoff({ baseMs: 100, maxMs: 5000, jitter: 'equal' });
  private readonly metrics: TailerMetrics;
  private readonly positions: ReadPositions;
  private readonly ahead: ReadAhead;
  private readonly watch = new StreamWatch();
  private readonly reader: StreamReader;
  private readonly rate: RateGate;
  private readonly stopRequested = (): boolean => this.stopping;
  private readonly batches: BatchDispatch;
  private state: TailerState = INITIAL_TAILER_STATE;
  private loopDone: Promise<void> | null = null;
  private catchingUp = true;
  /** The last failure and where it came from: a later success of the same kind clears it. */
  private failure: { from: 'peer' | 'store' | 'apply'; message: string } | null = null;
  private lastEventAt: number | null = null;

  constructor(deps: TailerDeps, settings: TailerSettings) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.metrics = new TailerMetrics(deps.metrics, deps.peerId, deps.logger);
    this.reader = new StreamReader({
      peerId: deps.peerId, connection: deps.connection, logger: deps.logger, sleeper: this.sleeper, retry: this.retry, now: this.now,
      peerCall: (call) => this.peerCall(call), onError: (message) => { this.failure = { from: 'peer', message }; },
    }, readSettingsOf(settings));
    this.rate = new RateGate(this.now, this.sleeper, () => this.metrics.rateLimitWaits.inc());
    this.positions = new ReadPositions(deps.cursors.get(deps.peerId) ?? STREAM_START);
    this.ahead = new ReadAhead(this.positions);
    this.batches = new BatchDispatch({
      peerId: deps.peerId, store: deps.store, cursors: deps.cursors, metrics: deps.metrics, logger: deps.logger, slo: deps.slo,
      ...(deps.recentStamps ? { recentStamps: deps.recentStamps } : {}), now: this.now, positions: this.positions, accounting: this.metrics,
      onApplied: (count) => {
        this.retry.reset();
        this.failure = null;
        this.lag.onRead(count);
      },
      // The reads are rewound to the cursor: the loop backs off and reads the same entries again.
      onFailed: (message) => {
        this.failure = { from: 'apply', message };
        this.on({ type: 'apply_failed' });
      },
    });
    this.aimd = this.makeAimd(settings.hotPath);
    this.resolve(settings);
  }

  start(): void {
    if (this.loopDone) return;
    this.on({ type: 'start' });
    this.loopDone = this.loop();
  }

  /** Stops reading, lets the batches in flight finish (their cursor persisted), then resolves. */
  async stop(): Promise<void> {
    this.on({ type: 'stop' });
    this.sleeper.wakeAll();
    this.deps.connection.interruptRead();
    await this.loopDone;
    this.loopDone = null;
    this.on({ type: 'stopped' });
  }

  /** New settings take effect from the next read. */
  updateSettings(settings: TailerSettings): void {
    const next = settings.hotPath;
    const old = this.settings.hotPath;
    if (next.batch_size !== old.batch_size || next.min_batch_size !== old.min_batch_size || next.max_batch_size !== old.max_batch_size ||
      next.adaptive_batch_size !== old.adaptive_batch_size) {
      this.aimd = this.makeAimd(next);
    }
    this.reader.configure(readSettingsOf(settings));
    this.resolve(settings);
    this.sleeper.wakeAll();
  }

  status(): TailerStatus {
    return {
      running: this.loopDone !== null && !isStopping(this.state),
      cursor: this.positions.durable,
      lagMs: this.lag.lagMs,
      lagEvents: this.lag.lagEvents,
      catchingUp: this.catchingUp,
      batchSize: this.aimd.current,
      paused: pauseOf(this.state),
      lastError: this.failure?.message ?? null,
      lastEventAt: this.lastEventAt,
      counters: { ...this.metrics.counters },
    };
  }

  /** Every change of state goes through here (the rules: tailer-state.ts). */
  private on(event: TailerEvent): void {
    this.state = transition(this.state, event);
  }

  private get stopping(): boolean {
    return isStopping(this.state);
  }

  /** Options that depend on the settings only, resolved when they change rather than per batch. */
  private resolve(settings: TailerSettings): void {
    this.settings = settings;
    const { deps } = this;
    const recent = deps.recentStamps;
    this.prepareOptions = {
      peerId: deps.peerId, localNodeId: deps.localNodeId, maxPayloadBytes: settings.maxPayloadBytes,
      maxClockSkewMs: settings.maxClockSkewMs, maxFutureSkewMs: settings.maxFutureSkewMs, nowMs: 0,
      maxBatchBytes: settings.hotPath.max_batch_bytes,
      ...(recent ? { seen: (key, stamp) => recent.covers(key, stamp) } : {}),
    };
    this.rate.configure(settings.hotPath);
    this.batches.configure(settings.maxFutureSkewMs, settings.slo.max_batch_flush_latency_ms);
  }

  private makeAimd(hot: HotPathSettings): AimdBatchSizer {
    return new AimdBatchSizer({ initial: hot.batch_size, min: Math.min(hot.min_batch_size, hot.batch_size), max: Math.max(hot.max_batch_size, hot.batch_size), enabled: hot.adaptive_batch_size });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
      } catch (err) {
        // step() handles peer and store failures itself; anything here is a bug, never a crash.
        this.deps.logger.error({ peer_id: this.deps.peerId, err }, 'hot path: unexpected error');
        await this.sleeper.sleep(this.retry.next());
      }
    }
    await this.batches.drain();
  }

  private async step(): Promise<void> {
    const { peerId, breaker } = this.deps;
    // A full window: wait for the oldest batch before reading another. Here rather than right
    // after dispatching, so that the step which read a batch does not hold it meanwhile.
    await this.batches.waitForRoom();
    if (!breaker.canRequest()) {
      this.on({ type: 'pause', reason: 'circuit_open' });
      this.lag.unreachable(this.now());
      this.publishLag();
      await this.sleeper.sleep(250);
      return;
    }
    if (isRetrying(this.state)) {
      // Everything dispatched after the failed batch is dropped unfinished (see finish); once it
      // has settled, back off and read again from the cursor.
      await this.batches.drain();
      this.on({ type: 'retried' });
      this.positions.rewind();
      await this.sleeper.sleep(this.retry.next());
      return;
    }
    if (!(await this.storeAccepting())) {
      // Paused, not blind: the peer still answers on the query connection, so lag stays measured.
      if (pauseOf(this.state) === 'backpressure' && this.watch.due(this.now()) && breaker.canRequest()) {
        await this.peerCall(() => this.refreshStreamInfo());
      }
      return;
    }
    this.on({ type: 'accepting' });
    if (this.batches.futureDue(this.now())) this.deps.requestRepair(peerId, 'future_stamp');

    if (this.watch.due(this.now())) {
      if (!(await this.peerCall(() => this.refreshStreamInfo()))) return;
    }

    // As this step found it: a reload while the read is under way applies from the next step.
    const rateLimited = this.rate.enabled;
    const read = await this.nextRead();
    if (read === null || (this.stopping && read.raw.length === 0)) return;
    const { raw, requested, readMs } = read;
    if (!read.leftover) {
      this.metrics.readDuration.observe(readMs / 1000);
      this.aimd.next(raw.length, requested);
      this.reader.observe(raw);
      this.metrics.batchSize.set(this.aimd.current);
    }
    if (raw.length === 0) {
      this.setCatchingUp(false);
      return;
    }
    this.lastEventAt = this.now();
    if (!read.leftover) {
      if (this.catchingUp) this.deps.slo.check(peerId, 'stream_read_latency', readMs, this.settings.slo.max_stream_read_latency_ms, 'ms');
      this.setCatchingUp(raw.length >= requested);
      // A full read means more entries are waiting: fetch them while this batch is decoded and sent.
      if (raw.length >= requested && !rateLimited && !this.stopping) this.readAhead(raw[raw.length - 1]!.id);
    }

    // Stopped while waiting: the batch is not dispatched; the cursor is before it, so it is read again.
    // A leftover's tokens were taken with its read.
    if (rateLimited && !read.leftover && !(await this.rate.wait(raw.length, this.stopRequested))) return;
    // Read from where a failed batch left off: dropped, read again after the back-off.
    if (isRetrying(this.state)) return;
    if (read.oversized) {
      const { id, message } = read.oversized;
      this.batches.dispatch(read.from, raw, { consumed: 1, winners: [], rejected: [{ id, reason: 'too_large', message }], ownOrigin: 0, seen: 0, collapsed: 0, skewed: [], future: [], traceParentsDropped: 0 });
      this.positions.dispatch(id);
      return;
    }
    this.prepareOptions.nowMs = this.now();
    const batch = prepareBatch(raw, this.prepareOptions);
    const taken = batch.consumed < raw.length ? raw.slice(0, batch.consumed) : raw;
    this.batches.dispatch(read.from, taken, batch);
    // Only once the batch is in the window: had anything above thrown, the next step reads it again.
    this.positions.dispatch(taken[taken.length - 1]!.id);
    this.ahead.keepRest(raw, batch.consumed);
  }

  /** The batch after the dispatched position: the leftover, else the read-ahead (read-ahead.ts), else a fresh read. */
  private async nextRead(): Promise<ReadBatch | null> {
    // Before the read-ahead, which continues after the leftover's last entry.
    const leftover = this.ahead.takeLeftover(this.stopping);
    if (leftover) return leftover;
    const pending = this.ahead.takePending();
    if (pending) {
      const result = await pending.result;
      if (this.ahead.continues(pending)) return result;
    }
    if (this.stopping) return null;
    return this.read(this.positions.dispatched);
  }

  private read(from: string): Promise<ReadBatch | null> {
    const current = this.aimd.current;
    return this.reader.read(from, this.rate.enabled ? Math.min(current, this.rate.burst) : current);
  }

  /**
   * Read-ahead of one batch (read-ahead.ts): its round trip overlaps the work on this batch. Its
   * entries are decoded when the loop takes them (decoding them at once held one more decoded
   * batch in memory for no measurable gain: BENCHMARKS.md). The circuit breaker still sees the
   * call; a read that fails resolves to null and is retried.
   */
  private readAhead(from: string): void {
    if (!this.deps.breaker.canRequest()) return;
    this.ahead.start(from, this.read(from));
  }

  private async refreshStreamInfo(): Promise<void> {
    const { peerId } = this.deps;
    const info = await this.deps.connection.streamInfo();
    const lookedAt = this.now();
    const cursor = this.positions.durable;
    const gap = this.watch.look(cursor, info, lookedAt);
    if (gap) {
      this.metrics.countGap(gap.kind, cursor, info);
      if (gap.reset) {
        // Batches in flight finish first, so none moves the cursor after this reset.
        await this.batches.drain();
        this.lag.reset();
        this.batches.resetCursor(STREAM_START);
      }
      this.deps.requestRepair(peerId, gap.kind);
    }
    this.lag.observe(this.positions.durable, info, lookedAt);
    if (farBehind(this.positions.durable, info, this.lag.lagEvents, this.settings.hotPath.max_batch_size)) this.setCatchingUp(true);
    this.publishLag();
  }

  /** Lag gauges and the lag SLO, from the tracker's current values. */
  private publishLag(): void {
    this.metrics.lagMs.set(this.lag.lagMs);
    this.metrics.lagEvents.set(this.lag.lagEvents);
    this.deps.slo.check(this.deps.peerId, 'replication_lag', this.lag.lagMs / 1000, this.settings.slo.max_replication_lag_sec, 's');
  }

  /** Runs a call to the peer through the circuit breaker; null when it failed. */
  private async peerCall<T>(call: () => Promise<T>): Promise<T | null> {
    try {
      const result = await call();
      this.deps.breaker.onSuccess();
      // The peer answers again: an error it caused is over, even if no batch follows (an idle stream).
      if (this.failure?.from === 'peer') this.failure = null;
      return result;
    } catch (err) {
      if (this.stopping) return null;
      this.deps.breaker.onFailure();
      this.metrics.peerErrors.inc();
      this.failure = { from: 'peer', message: errorMessage(err) };
      this.watch.peerLost();
      this.lag.unreachable(this.now());
      this.publishLag();
      this.deps.logger.debug({ peer_id: this.deps.peerId, err }, 'peer call failed');
      await this.sleeper.sleep(this.retry.next());
      return null;
    }
  }

  private async storeAccepting(): Promise<boolean> {
    let accepting: boolean;
    try {
      accepting = await this.deps.store.shouldAcceptWrites();
    } catch (err) {
      this.failure = { from: 'store', message: `local store: ${errorMessage(err)}` };
      await this.sleeper.sleep(this.retry.next());
      return false;
    }
    if (this.failure?.from === 'store') this.failure = null;
    if (accepting) return true;
    if (pauseOf(this.state) !== 'backpressure') {
      this.metrics.backpressurePauses.inc();
      this.deps.logger.warn({ peer_id: this.deps.peerId }, 'backpressure: local Redis memory above threshold; pausing reads');
    }
    this.on({ type: 'pause', reason: 'backpressure' });
    await this.sleeper.sleep(this.settings.memoryPollIntervalMs);
    return false;
  }

  private setCatchingUp(value: boolean): void {
    this.catchingUp = value;
    this.metrics.catchingUp.set(value ? 1 : 0);
  }
}
