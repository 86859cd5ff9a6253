/**
 * The replication engine (DESIGN §8): owns the peers (connections, circuit breakers,
 * hot-path tailers, health pings), the cold-path scheduler, the cursor store, tombstone
 * collection and the metrics of one node. Library users and the daemon drive it alike:
 *
 *   const engine = new ReplicationEngine(config, { store });
 *   await engine.start();          // never waits for peers: they connect in the background
 *   await engine.updateConfig(c);  // peers added, removed, changed; settings applied live
 *   await engine.shutdown();       // stop reading, finish batches, save cursors, close
 */
import { ReplicationError } from '../errors.js';
import { restartRequiredChanges } from '../config/restart.js';
import type { PeerConfig, ReplicationConfig } from '../config/types.js';
import type { CursorStore } from '../cursor/cursor-store.js';
import { SqliteCursorStore } from '../cursor/sqlite-cursor-store.js';
import type { RepairOutcome } from '../cold-path/repair-outcome.js';
import type { RepairReason } from '../cold-path/repair-policy.js';
import { ColdPathScheduler } from '../cold-path/scheduler.js';
import { RecentStamps } from '../hot-path/recent-stamps.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { EngineMetrics } from '../observability/metrics.js';
import { SloMonitor } from '../observability/slo.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import { RedisPeerConnection } from '../peer/redis-peer-connection.js';
import type { SyncEngine } from '../store/sync-engine.js';
import { engineStateValue, type EngineState } from './engine-state.js';
import { LocalStoreWatch } from './local-store-watch.js';
import type { EngineStatus, PeerStatus } from './engine-status.js';
import { PeerRuntime, peerNeedsReconnect } from './peer-runtime.js';

export interface EngineDeps {
  /** The node's local store. The engine does not close it. */
  store: SyncEngine;
  logger?: Logger;
  /** Defaults to a fresh registry per engine. */
  metrics?: EngineMetrics;
  /** Defaults to SQLite at `config.cursor.sqlite_path`. The engine closes what it opened itself. */
  cursors?: CursorStore;
  /** How to reach a peer; defaults to two ioredis connections. */
  connectPeer?: (peer: PeerConfig) => PeerConnection;
  now?: () => number;
}

export interface ShutdownOptions {
  /** Past this, connections are closed even if a batch is still in flight. Default 10 s. */
  deadlineMs?: number;
}

export class EngineStateError extends ReplicationError {}

const DEFAULT_SHUTDOWN_DEADLINE_MS = 10_000;
const LOCAL_CHECK_INTERVAL_MS = 2_000;

export class ReplicationEngine {
  readonly metrics: EngineMetrics;
  readonly store: SyncEngine;
  private config: ReplicationConfig;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly connectPeer: (peer: PeerConfig) => PeerConnection;
  private readonly slo: SloMonitor;
  private readonly peers = new Map<string, PeerRuntime>();
  private readonly coldPath: ColdPathScheduler;
  private cursors: CursorStore | null;
  private readonly ownsCursors: boolean;
  private currentState: EngineState = 'stopped';
  private timers: NodeJS.Timeout[] = [];
  private gcRunning: Promise<void> | null = null;
  private reconfiguring: Promise<void> = Promise.resolve();
  /** What the local store is known to hold, shared by the tailers to skip re-emitted copies. */
  private readonly recentStamps = new RecentStamps();
  /** Notices the local Redis losing data or going back in time. */
  private readonly localStore: LocalStoreWatch;

  constructor(config: ReplicationConfig, deps: EngineDeps) {
    if (deps.store.nodeId !== config.local_node_id) {
      throw new ReplicationError('node_id_mismatch',
        `the store belongs to node "${deps.store.nodeId}" but the configuration says local_node_id "${config.local_node_id}"`);
    }
    this.config = config;
    this.store = deps.store;
    this.logger = (deps.logger ?? silentLogger()).child({ node_id: config.local_node_id });
    this.metrics = deps.metrics ?? new EngineMetrics();
    this.now = deps.now ?? Date.now;
    this.cursors = deps.cursors ?? null;
    this.ownsCursors = deps.cursors === undefined;
    this.connectPeer = deps.connectPeer ?? ((peer) => new RedisPeerConnection({
      peerId: peer.node_id,
      prefix: peer.redis_prefix,
      endpoint: { redis_url: peer.redis_url, username: peer.username, password: peer.password, tls: peer.tls },
    }));
    this.slo = new SloMonitor((peerId, slo) => this.metrics.sloViolations.labels(peerId, slo).inc(), this.logger, this.now);
    this.coldPath = new ColdPathScheduler({
      store: this.store,
      metrics: this.metrics,
      logger: this.logger,
      settings: config.settings.cold_path,
      tombstoneTtlMs: config.store.tombstone_ttl,
      maxFutureSkewMs: config.store.max_future_skew,
      now: this.now,
    });
    this.localStore = new LocalStoreWatch({
      store: this.store,
      metrics: this.metrics,
      logger: this.logger,
      cursors: () => this.cursors,
      isRunning: () => this.currentState === 'running',
      forgetRecentStamps: () => this.recentStamps.clear(),
      repairFromEveryPeer: () => {
        for (const peerId of this.peers.keys()) void this.repairUntilDone(peerId, 'local_data_loss');
        return [...this.peers.keys()];
      },
    });
    this.setState('stopped');
  }

  get state(): EngineState {
    return this.currentState;
  }

  /** The configuration in force. */
  get configuration(): ReplicationConfig {
    return this.config;
  }

  /**
   * Opens the cursor store and starts every peer's hot path, the cold path and the
   * housekeeping timers. Returns once they are started, not once peers are reachable:
   * an unreachable peer is retried in the background forever.
   */
  async start(): Promise<void> {
    if (this.currentState !== 'stopped') throw new EngineStateError('invalid_state', `cannot start an engine that is ${this.currentState}`);
    this.setState('starting');
    try {
      if (!this.cursors) {
        const opened = SqliteCursorStore.open({ path: this.config.cursor.sqlite_path, walMode: this.config.cursor.wal_mode, logger: this.logger });
        this.metrics.cursorRecovered.set(opened.recoveredFromCorruption ? 1 : 0);
        this.cursors = opened;
      }
      const cursors = this.cursors;
      for (const peer of this.config.peers) this.addPeer(peer);
      this.syncColdPathPeers();
      this.syncRecentStamps();
      // The local Redis may have lost data or gone back in time while this engine was down.
      await this.localStore.begin(cursors);
      if (this.config.settings.cold_path.enabled) this.coldPath.start();
      this.startTimers();
    } catch (err) {
      await this.stopEverything();
      this.setState('stopped');
      throw err;
    }
    this.setState('running');
    this.logger.info({ peers: this.config.peers.map((p) => p.node_id) }, 'replication engine running');
  }

  /**
   * Graceful stop: no new reads, the batch in flight finishes and its cursor is saved,
   * the cold path finishes its cycle, then connections and the cursor file are closed.
   * Past the deadline connections are closed anyway (a replay of one batch is harmless).
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.currentState === 'stopped' || this.currentState === 'stopping') return;
    this.setState('stopping');
    const deadlineMs = options.deadlineMs ?? DEFAULT_SHUTDOWN_DEADLINE_MS;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    const outcome = await Promise.race([this.stopEverything().then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      this.logger.warn({ deadline_ms: deadlineMs }, 'shutdown deadline passed; closing connections with work in flight');
      await Promise.allSettled([...this.peers.values()].map((p) => p.connection.close()));
      this.peers.clear();
      this.closeCursors();
    }
    this.setState('stopped');
    this.logger.info('replication engine stopped');
  }

  /**
   * Applies a new configuration while running: peers added, removed or changed, settings
   * applied. Changes that need a restart (node id, local store, cursor file) are refused
   * with an error naming them; nothing is changed then.
   */
  updateConfig(next: ReplicationConfig): Promise<void> {
    const run = this.reconfiguring.then(() => this.applyConfig(next));
    this.reconfiguring = run.catch(() => undefined);
    return run;
  }

  /** Runs a cold-path repair with one peer (or every peer) now, waiting for the result. */
  repairNow(peerId?: string): Promise<RepairOutcome[]> {
    if (peerId !== undefined && !this.peers.has(peerId)) {
      return Promise.reject(new ReplicationError('unknown_peer', `no peer "${peerId}" in the configuration`));
    }
    return this.coldPath.repairNow(peerId);
  }

  status(): EngineStatus {
    const peers: PeerStatus[] = [...this.peers.values()].map((p) => {
      const t = p.tailer.status();
      return {
        peer_id: p.peerId,
        connected: p.connection.connected,
        circuit: p.breaker.state,
        cursor: t.cursor,
        lag_ms: t.lagMs,
        lag_events: t.lagEvents,
        catching_up: p.hotPathEnabled && t.catchingUp,
        paused: t.paused,
        batch_size: t.batchSize,
        last_error: p.refusedBecause ?? p.connection.downCause ?? t.lastError,
        last_repair: this.coldPath.lastRepair(p.peerId),
        counters: {
          events_read: t.counters.eventsRead,
          events_applied: t.counters.eventsApplied,
          events_deduped: t.counters.eventsDeduped,
          events_rejected: t.counters.eventsRejected,
          batches: t.counters.batches,
          gaps: t.counters.gaps,
        },
      };
    });
    return { node_id: this.config.local_node_id, state: this.currentState, cursor_error: this.cursors?.fault?.() ?? null, peers };
  }

  // ── internals ───────────────────────────────────────────────────────────────

  private async applyConfig(next: ReplicationConfig): Promise<void> {
    const restart = restartRequiredChanges(this.config, next);
    if (restart.length > 0) {
      throw new ReplicationError('restart_required', `these settings change only with a restart: ${restart.join(', ')}`);
    }
    const previous = this.config;
    this.config = next;
    if (this.currentState !== 'running' && this.currentState !== 'starting') return;

    const wanted = new Map(next.peers.map((p) => [p.node_id, p]));
    const removals: Promise<void>[] = [];
    for (const [peerId, runtime] of this.peers) {
      const peer = wanted.get(peerId);
      if (!peer || peerNeedsReconnect(runtime.config, peer)) {
        this.peers.delete(peerId);
        removals.push(runtime.stop().then(() => {
          if (!peer) return this.metrics.removePeer(peerId);
        }));
        this.logger.info({ peer_id: peerId }, peer ? 'peer changed; reconnecting' : 'peer removed');
      }
    }
    // The cold path forgets removed peers before they are torn down.
    this.syncColdPathPeers();
    await Promise.all(removals);
    for (const runtime of this.peers.values()) {
      runtime.config = wanted.get(runtime.peerId) ?? runtime.config;
      runtime.applyLiveSettings(next);
      await runtime.setHotPath(next.settings.hot_path.enabled);
    }
    for (const peer of next.peers) {
      if (!this.peers.has(peer.node_id)) {
        this.addPeer(peer);
        this.logger.info({ peer_id: peer.node_id }, 'peer added');
      }
    }
    this.syncColdPathPeers();
    this.syncRecentStamps();
    this.coldPath.updateSettings(next.settings.cold_path);
    this.coldPath.setMaxFutureSkew(next.store.max_future_skew);
    if (next.settings.cold_path.enabled && !previous.settings.cold_path.enabled) this.coldPath.start();
    if (!next.settings.cold_path.enabled && previous.settings.cold_path.enabled) await this.coldPath.stop();
    if (next.store.tombstone_gc_interval !== previous.store.tombstone_gc_interval) {
      this.stopTimers();
      this.startTimers();
    }
    this.logger.info({ peers: next.peers.map((p) => p.node_id) }, 'configuration applied');
  }

  private addPeer(peer: PeerConfig): void {
    const cursors = this.cursors;
    if (!cursors) throw new EngineStateError('invalid_state', 'cursor store not open');
    const runtime = new PeerRuntime(peer, this.config, {
      localNodeId: this.config.local_node_id,
      store: this.store,
      cursors,
      metrics: this.metrics,
      logger: this.logger,
      slo: this.slo,
      connection: this.connectPeer(peer),
      requestRepair: (peerId, reason) => this.onGap(peerId, reason),
      recentStamps: this.recentStamps,
      now: this.now,
    });
    this.peers.set(peer.node_id, runtime);
    runtime.start(this.config.settings.hot_path.enabled);
  }

  /** Copies of a change come from several peers only: with one peer, remembering them is wasted. */
  private syncRecentStamps(): void {
    this.recentStamps.active = this.peers.size > 1;
  }

  private onGap(peerId: string, reason: RepairReason): void {
    // A gap is repaired even when periodic repair is switched off: nothing else can fill it.
    void this.repairUntilDone(peerId, reason);
  }

  /**
   * A requested repair runs in budget-sized cycles (`max_items_per_cycle` each) back to back
   * until nothing is left, instead of leaving the rest to periodic cycles an interval apart:
   * after a gap or a data loss, what is missing is known to be missing now.
   */
  private async repairUntilDone(peerId: string, reason: RepairReason): Promise<void> {
    for (;;) {
      const outcome = await this.coldPath.requestRepair(peerId, reason);
      if (outcome.result !== 'partial' || this.currentState !== 'running' || !this.peers.has(peerId)) return;
    }
  }

  private syncColdPathPeers(): void {
    this.coldPath.setPeers([...this.peers.values()].map((p) => ({
      peerId: p.peerId,
      priority: p.config.priority,
      reader: p.connection.reader,
      isCatchingUp: () => p.hotPathEnabled && p.tailer.status().catchingUp,
      canRequest: () => p.refusedBecause === null && p.breaker.canRequest(),
      onSuccess: () => p.breaker.onSuccess(),
      onFailure: () => p.breaker.onFailure(),
    })));
  }

  private startTimers(): void {
    const gcEvery = this.config.store.tombstone_gc_interval;
    this.timers.push(setInterval(() => this.collectTombstones(), gcEvery));
    this.timers.push(setInterval(() => void this.localStore.check(), LOCAL_CHECK_INTERVAL_MS));
    for (const t of this.timers) t.unref();
    void this.localStore.check();
  }

  private stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private collectTombstones(): void {
    const collect = this.store.collectTombstones;
    if (this.gcRunning || !collect) return;
    this.gcRunning = collect.call(this.store)
      .then((n) => {
        if (n > 0) {
          this.metrics.tombstonesCollected.inc(n);
          this.logger.info({ collected: n }, 'tombstones past tombstone_ttl collected');
        }
      })
      .catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'tombstone collection failed'))
      .finally(() => {
        this.gcRunning = null;
      });
  }

  private async stopEverything(): Promise<void> {
    this.stopTimers();
    const runtimes = [...this.peers.values()];
    await Promise.all([this.coldPath.stop(), ...runtimes.map((r) => r.stop())]);
    this.peers.clear();
    await this.gcRunning;
    this.closeCursors();
  }

  private closeCursors(): void {
    if (this.ownsCursors && this.cursors) {
      try {
        this.cursors.close();
      } catch (err) {
        this.logger.error({ err }, 'closing the cursor store failed');
      }
      this.cursors = null;
    }
  }

  private setState(state: EngineState): void {
    this.currentState = state;
    this.metrics.engineState.set(engineStateValue(state));
  }
}
