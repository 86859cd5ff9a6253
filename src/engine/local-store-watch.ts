/**
 * Watches the node's own Redis for lost data (see local-data-check.ts): at start against what the
 * last run saw (kept in the cursor file), then every few seconds against the previous check. On a
 * loss the engine forgets its recently-seen stamps, the store's clock is raised back to where it
 * was, and every peer is asked for a repair at once: the hot path cannot bring back what it had
 * already applied, the cold path pulls back everything the peers hold, including this node's own
 * writes that had reached one of them.
 */
import type { CursorStore } from '../cursor/cursor-store.js';
import type { Logger } from '../observability/logger.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { StoreDataState, LocalStore } from '../store/local-store.js';
import { localDataChange, type LocalDataChange } from './local-data-check.js';
import { errorMessage } from '../errors.js';

/** The cursor-file entry holding the last StoreDataState seen. */
const STATE_NAME = 'local_store';

export interface LocalStoreWatchDeps {
  store: LocalStore;
  metrics: EngineMetrics;
  logger: Logger;
  cursors: () => CursorStore | null;
  isRunning: () => boolean;
  forgetRecentStamps: () => void;
  /** Starts a repair with every peer; returns their ids (for the log). */
  repairFromEveryPeer: () => string[];
}

export class LocalStoreWatch {
  /** The local store's data as last checked. */
  private last: StoreDataState | null = null;
  private running: Promise<void> | null = null;
  /** The last check failure logged, so that a lasting one is logged once. */
  private lastFailure: string | null = null;
  /** What the start-time comparison needs, until a check has succeeded since start. */
  private atStart: { saved: StoreDataState | null; hadCursors: boolean } | null = null;

  constructor(private readonly deps: LocalStoreWatchDeps) {}

  /**
   * At start: what the last run saw of the local store against what it holds now. The Redis may
   * have been restarted, flushed or restored from an older snapshot while this engine was down.
   */
  async begin(cursors: CursorStore): Promise<void> {
    this.atStart = { saved: parseSaved(cursors.getState?.(STATE_NAME) ?? null), hadCursors: cursors.all().size > 0 };
    let data: StoreDataState | undefined;
    try {
      data = await this.deps.store.checkData?.();
    } catch (err) {
      // The local Redis blinked while this engine started: the periodic check makes this comparison.
      this.deps.logger.warn({ err }, 'local store data check at start failed; the next periodic check makes it');
      return;
    }
    await this.compareAtStart(data);
  }

  /** The first successful check after start, against what the last run saw. */
  private async compareAtStart(data: StoreDataState | undefined): Promise<void> {
    const start = this.atStart;
    this.atStart = null;
    if (!data || !start) return;
    this.last = data;
    this.save(data);
    let change = start.saved ? localDataChange(start.saved, data) : null;
    if (!change && data.fresh && start.hadCursors) change = { kind: 'lost', reason: 'the local store is new but cursors exist' };
    if (change) await this.react(change, start.saved?.clock ?? null);
  }

  /** Key count for the gauge, and whether the local Redis lost data since the last check. One at a time. */
  check(): Promise<void> {
    this.running ??= this.runCheck().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runCheck(): Promise<void> {
    let data: StoreDataState | undefined;
    try {
      this.deps.metrics.storeKeys.set(await this.deps.store.keyCount());
      data = await this.deps.store.checkData?.();
    } catch (err) {
      // The local store being down is reported by /ready and the apply path; a check that keeps
      // failing while it answers (an ACL without HINCRBY, say) would leave losses unnoticed.
      const text = errorMessage(err);
      if (text !== this.lastFailure) this.deps.logger.warn({ err }, 'local store data check failed; a data loss would go unnoticed until it succeeds');
      this.lastFailure = text;
      return;
    }
    this.lastFailure = null;
    if (this.atStart) return this.compareAtStart(data);
    if (!data) return;
    const last = this.last;
    this.last = data;
    this.save(data);
    const change = last && localDataChange(last, data);
    if (change && this.deps.isRunning()) await this.react(change, last.clock);
  }

  /** Kept in the cursor file for the next start; a failure shows as the cursor store's fault(). */
  private save(data: StoreDataState): void {
    try {
      this.deps.cursors()?.setState?.(STATE_NAME, JSON.stringify(data));
    } catch {
      // Reported through the cursor store's fault(): status cursor_error, /ready.
    }
  }

  /**
   * The recently-seen stamps described the lost data, so they are forgotten first; the clock is
   * raised back to where it was, so a write made now still beats what the peers hold.
   */
  private async react(change: LocalDataChange, lastClock: string | null): Promise<void> {
    const { store, logger } = this.deps;
    this.deps.forgetRecentStamps();
    // Before anything is reported: whoever waits for the report may write at once. Up to the last
    // check's clock, and to the stamps this process wrote or applied since that check.
    const written = store.highestStamp?.() ?? null;
    const floor = lastClock === null || (written !== null && written > lastClock) ? written : lastClock;
    if (floor !== null && store.raiseClock) {
      try {
        if (await store.raiseClock(floor)) logger.warn({ hlc: floor }, 'local store clock raised back to the last stamp it held');
      } catch (err) {
        logger.warn({ err }, 'could not raise the local store clock; the repair goes on');
      }
    }
    if (change.kind !== 'restarted') this.deps.metrics.localDataLoss.inc();
    const peers = this.deps.repairFromEveryPeer();
    if (change.kind === 'restarted') logger.warn({ reason: change.reason, peers }, 'local Redis restarted: comparing with every peer now');
    else logger.error({ reason: change.reason, kind: change.kind, peers }, 'local store lost its data: repairing from every peer now');
  }
}

/** A saved StoreDataState, or null when absent or not one (then only the fresh-store rule applies). */
function parseSaved(text: string | null): StoreDataState | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<StoreDataState>;
    if (typeof v.incarnation !== 'string' || typeof v.epoch !== 'number') return null;
    return {
      incarnation: v.incarnation,
      fresh: false,
      epoch: v.epoch,
      serverRunId: typeof v.serverRunId === 'string' ? v.serverRunId : null,
      clock: typeof v.clock === 'string' ? v.clock : null,
    };
  } catch {
    return null;
  }
}
