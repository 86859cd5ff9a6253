/**
 * One tailer's accounting: its counters (`TailerCounters`, in the engine status) and its series of
 * the engine's metrics (docs/metrics.md), with the log line of each entry it skips and each gap. The
 * prom-client children are bound once per peer here, so a batch costs no label lookups.
 */
import { CDC_REJECT_REASONS, type CdcRejectReason } from '../cdc/decode-error.js';
import { acceptableFromMs } from '../model/future-stamp.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { ApplyOutcome } from '../store/local-store.js';
import type { StreamInfo } from '../peer/peer-connection.js';
import type { GapKind } from './gap.js';
import type { PreparedBatch } from './prepare-batch.js';
import type { RecentStamps } from './recent-stamps.js';

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

/** A change sent to the store, as finishing its batch needs it (without its content). */
export interface SentChange {
  key: string;
  hlc: string;
  origin: string;
  updatedAt: number;
}

interface Inc { inc(value?: number): void }
interface Settable { set(value: number): void }
interface Observe { observe(value: number): void }

function byLabel<L extends string>(labels: readonly L[], bind: (label: L) => Inc): Record<L, Inc> {
  const out = {} as Record<L, Inc>;
  for (const label of labels) out[label] = bind(label);
  return out;
}

export class TailerMetrics {
  readonly counters: TailerCounters = { eventsRead: 0, eventsApplied: 0, eventsDeduped: 0, eventsRejected: 0, batches: 0, gaps: 0 };
  readonly readDuration: Observe;
  readonly batchSize: Settable;
  readonly lagMs: Settable;
  readonly lagEvents: Settable;
  readonly catchingUp: Settable;
  readonly rateLimitWaits: Inc;
  readonly peerErrors: Inc;
  readonly backpressurePauses: Inc;
  private readonly eventsRead: Inc;
  private readonly eventsApplied: Inc;
  private readonly rejected: Record<CdcRejectReason, Inc>;
  private readonly ownOrigin: Inc;
  private readonly seen: Inc;
  private readonly collapsed: Inc;
  private readonly duplicate: Inc;
  private readonly stale: Inc;
  private readonly clockSkew: Inc;
  private readonly traceParentsDropped: Inc;
  private readonly futureStamps: Inc;
  private readonly batchFlushes: Inc;
  private readonly flushDuration: Observe;
  private readonly applyLag: Observe;
  private readonly gaps: Record<GapKind, Inc>;

  constructor(metrics: EngineMetrics, private readonly peerId: string, private readonly logger: Logger) {
    this.readDuration = metrics.streamReadDuration.labels(peerId);
    this.batchSize = metrics.batchSize.labels(peerId);
    this.lagMs = metrics.lagMs.labels(peerId);
    this.lagEvents = metrics.lagEvents.labels(peerId);
    this.catchingUp = metrics.peerCatchingUp.labels(peerId);
    this.rateLimitWaits = metrics.rateLimitWaits.labels(peerId);
    this.peerErrors = metrics.peerErrors.labels(peerId);
    this.backpressurePauses = metrics.backpressurePauses.labels(peerId);
    this.eventsRead = metrics.eventsRead.labels(peerId);
    this.eventsApplied = metrics.eventsApplied.labels(peerId);
    this.rejected = byLabel(CDC_REJECT_REASONS, (reason) => metrics.eventsRejected.labels(peerId, reason));
    this.ownOrigin = metrics.eventsDeduped.labels(peerId, 'own_origin');
    this.seen = metrics.eventsDeduped.labels(peerId, 'seen');
    this.collapsed = metrics.eventsDeduped.labels(peerId, 'collapsed');
    this.duplicate = metrics.eventsDeduped.labels(peerId, 'duplicate');
    this.stale = metrics.eventsDeduped.labels(peerId, 'stale');
    this.clockSkew = metrics.clockSkew.labels(peerId);
    this.traceParentsDropped = metrics.traceParentsDropped.labels(peerId);
    this.futureStamps = metrics.futureStamps.labels(peerId, 'hot');
    this.batchFlushes = metrics.batchFlushes.labels(peerId);
    this.flushDuration = metrics.batchFlushDuration.labels(peerId);
    this.applyLag = metrics.applyLag.labels(peerId);
    this.gaps = byLabel(['trimmed', 'peer_behind'] as const, (kind) => metrics.streamGaps.labels(peerId, kind));
  }

  /** Read-side counters and logs of one batch, as soon as it is read. */
  countRead(entries: number, batch: PreparedBatch): void {
    const { peerId, logger, counters } = this;
    this.eventsRead.inc(entries);
    counters.eventsRead += entries;
    counters.eventsRejected += batch.rejected.length;
    counters.eventsDeduped += batch.ownOrigin + batch.seen + batch.collapsed;
    for (const r of batch.rejected) {
      this.rejected[r.reason].inc();
      logger.warn({ peer_id: peerId, entry_id: r.id, reason: r.reason }, `rejected CDC entry: ${r.message}`);
    }
    if (batch.ownOrigin) this.ownOrigin.inc(batch.ownOrigin);
    if (batch.seen) this.seen.inc(batch.seen);
    if (batch.collapsed) this.collapsed.inc(batch.collapsed);
    for (const e of batch.skewed) {
      this.clockSkew.inc();
      logger.warn({ peer_id: peerId, entry_id: e.id, key: e.key, hlc: e.hlc, origin: e.origin }, 'received stamp is far ahead of the local clock (applied anyway)');
    }
    if (batch.traceParentsDropped) this.traceParentsDropped.inc(batch.traceParentsDropped);
  }

  /**
   * Counts and logs a change refused as too far ahead; returns when it comes within
   * `maxFutureSkewMs` (ms), from when the cold path can bring it.
   */
  heldBack(key: string, hlc: string, origin: string, entryId: string | null, maxFutureSkewMs: number): number {
    const from = acceptableFromMs(hlc, maxFutureSkewMs);
    this.futureStamps.inc();
    this.logger.warn({ peer_id: this.peerId, entry_id: entryId, key, hlc, origin, max_future_skew_ms: maxFutureSkewMs,
      accepted_from: Number.isFinite(from) ? new Date(from).toISOString() : null },
    'refused a change stamped too far ahead of the local clock: not applied; the cold path brings it once the clock has caught up');
    return from;
  }

  /**
   * The outcome of one applied batch of changes (`flushMs`: its apply's duration). Changes the
   * store refused as from the future are handed to `future`; the others are recorded as held.
   */
  countApplied(changes: readonly SentChange[], result: readonly ApplyOutcome[], flushMs: number, nowMs: number,
    recent: RecentStamps | undefined, future: (change: SentChange) => void): void {
    this.batchFlushes.inc();
    this.counters.batches++;
    this.flushDuration.observe(flushMs / 1000);
    let applied = 0;
    let duplicate = 0;
    let stale = 0;
    for (let i = 0; i < result.length; i++) {
      const outcome = result[i]!;
      const change = changes[i]!;
      if (outcome === 'future') {
        // The store's own bound refused it: nothing is held for the key (not recorded as seen).
        future(change);
        continue;
      }
      // Applied, duplicate or stale: the store now holds the key at this stamp or a later one.
      if (recent) recent.record(change.key, change);
      if (outcome === 'applied') {
        applied++;
        this.applyLag.observe(Math.max(0, nowMs - change.updatedAt) / 1000);
      } else if (outcome === 'duplicate') duplicate++;
      else stale++;
    }
    if (duplicate) this.duplicate.inc(duplicate);
    if (stale) this.stale.inc(stale);
    this.eventsApplied.inc(applied);
    this.counters.eventsApplied += applied;
    this.counters.eventsDeduped += duplicate + stale;
  }

  /** A gap seen for the first time, at `cursor`, in the stream `info` describes. */
  countGap(kind: GapKind, cursor: string, info: StreamInfo | null): void {
    this.gaps[kind].inc();
    this.counters.gaps++;
    this.logger.warn({ peer_id: this.peerId, kind, cursor, last_id: info?.lastGeneratedId, max_deleted_id: info?.maxDeletedId },
      kind === 'trimmed' ? 'gap: the peer trimmed entries we had not read; requesting a cold-path repair'
        : 'gap: the peer stream is behind our cursor (peer data loss?); reading it from the start and requesting a cold-path repair');
  }
}
