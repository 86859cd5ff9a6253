/**
 * The replication engine (docs/architecture.md, "The engine, the daemon, the operator"): owns
 * the peers (a PeerRuntime each: connections, circuit breaker, hot-path tailer, health pings),
 * the cold-path scheduler, the cursor store, the local-store housekeeping and the metrics of one
 * node, and moves them through their lifecycle. What a reload does to the peers is planPeers
 * (peer-plan.ts); the status shape is engine-status.ts. Library users and the daemon drive it alike:
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
import type { LocalStore } from '../store/local-store.js';
import { engineStateValue, type EngineState } from './engine-state.js';
import { peerStatus, type EngineStatus } from './engine-status.js';
import { Housekeeping } from './housekeeping.js';
import { LocalStoreWatch } from './local-store-watch.js';
import { planPeers } from './peer-plan.js';
import { PeerRuntime } from './peer-runtime.js';

export interface EngineDeps {
  /** The node's local store. The engine does not close it. */
  store: LocalStore;
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

export class ReplicationEngine {
  readonly metrics: EngineMetrics;
  readonly store: LocalStore;
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
  private readonly housekeeping: Housekeeping;
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
    this.housekeeping = new Housekeeping({ store: this.store, metrics: this.metrics, logger: this.logger, localStore: this.localStore });
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
      this.housekeeping.start(this.config.store.tombstone_gc_interval);
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
    const peers = [...this.peers.values()].map((p) => peerStatus(p, this.coldPath.lastRepair(p.peerId)));
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

    const plan = planPeers(new Map([...this.peers].map(([peerId, runtime]) => [peerId, runtime.config])), next.peers);
    const removed = new Set(plan.removed);
    const leaving = new Set([...plan.removed, ...plan.reconnected]);
    const stops = [...this.peers.keys()].filter((peerId) => leaving.has(peerId)).map((peerId) => this.stopPeer(peerId, removed.has(peerId)));
    // The cold path forgets removed peers before they are torn down.
    this.syncColdPathPeers();
    await Promise.all(stops);
    for (const peer of plan.kept) {
      const runtime = this.peers.get(peer.node_id);
      if (!runtime) continue; // shut down meanwhile
      runtime.reconfigure(peer, next);
      await runtime.setHotPath(next.settings.hot_path.enabled);
    }
    for (const peer of plan.started) {
      this.addPeer(peer);
      this.logger.info({ peer_id: peer.node_id }, 'peer added');
    }
    this.syncColdPathPeers();
    this.syncRecentStamps();
    this.coldPath.updateSettings(next.settings.cold_path);
    this.coldPath.setMaxFutureSkew(next.store.max_future_skew);
    if (next.settings.cold_path.enabled && !previous.settings.cold_path.enabled) this.coldPath.start();
    if (!next.settings.cold_path.enabled && previous.settings.cold_path.enabled) await this.coldPath.stop();
    if (next.store.tombstone_gc_interval !== previous.store.tombstone_gc_interval) {
      this.housekeeping.stop();
      this.housekeeping.start(next.store.tombstone_gc_interval);
    }
    this.logger.info({ peers: next.peers.map((p) => p.node_id) }, 'configuration applied');
  }

  /** Stops a peer's runtime and drops it; `forget`: it left the configuration, so its metric series go too. */
  private stopPeer(peerId: string, forget: boolean): Promise<void> {
    const runtime = this.peers.get(peerId);
    if (!runtime) return Promise.resolve();
    this.peers.delete(peerId);
    const stopped = runtime.stop().then(() => {
      if (forget) return this.metrics.removePeer(peerId);
    });
    this.logger.info({ peer_id: peerId }, forget ? 'peer removed' : 'peer changed; reconnecting');
    return stopped;
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

  private async stopEverything(): Promise<void> {
    this.housekeeping.stop();
    const runtimes = [...this.peers.values()];
    await Promise.all([this.coldPath.stop(), ...runtimes.map((r) => r.stop())]);
    this.peers.clear();
    await this.housekeeping.idle();
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
