/**
 * The engine's local-store timers: tombstone collection every `store.tombstone_gc_interval`
 * (one run at a time), and the local data check (key-count gauge, data-loss watch) every few
 * seconds.
 */
import type { Logger } from '../observability/logger.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { LocalStore } from '../store/local-store.js';
import type { LocalStoreWatch } from './local-store-watch.js';

const LOCAL_CHECK_INTERVAL_MS = 2_000;

export interface HousekeepingDeps {
  store: LocalStore;
  metrics: EngineMetrics;
  logger: Logger;
  localStore: LocalStoreWatch;
}

export class Housekeeping {
  private timers: NodeJS.Timeout[] = [];
  private gcRunning: Promise<void> | null = null;

  constructor(private readonly deps: HousekeepingDeps) {}

  /** Starts the timers and runs a first local check at once. */
  start(tombstoneGcIntervalMs: number): void {
    this.timers.push(setInterval(() => this.collectTombstones(), tombstoneGcIntervalMs));
    this.timers.push(setInterval(() => void this.deps.localStore.check(), LOCAL_CHECK_INTERVAL_MS));
    for (const t of this.timers) t.unref();
    void this.deps.localStore.check();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Resolves once a tombstone collection in progress, if any, has finished. */
  async idle(): Promise<void> {
    await this.gcRunning;
  }

  private collectTombstones(): void {
    const { store, metrics, logger } = this.deps;
    const collect = store.collectTombstones;
    if (this.gcRunning || !collect) return;
    this.gcRunning = collect.call(store)
      .then((n) => {
        if (n > 0) {
          metrics.tombstonesCollected.inc(n);
          logger.info({ collected: n }, 'tombstones past tombstone_ttl collected');
        }
      })
      .catch((err: unknown) => logger.warn({ err }, 'tombstone collection failed'))
      .finally(() => {
        this.gcRunning = null;
      });
  }
}
