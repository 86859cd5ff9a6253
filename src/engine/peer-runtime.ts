/**
 * Everything the engine runs for one peer: its connections, circuit breaker, hot-path
 * tailer and health pinger, wired to the engine's metrics. Created when the peer joins
 * the configuration (or the engine starts), stopped and dropped when it leaves.
 */
import type { PeerConfig, ReplicationConfig } from '../config/types.js';
import type { CursorStore } from '../cursor/cursor-store.js';
import type { RecentStamps } from '../hot-path/recent-stamps.js';
import { StreamTailer, type HotPathRepairReason, type TailerSettings } from '../hot-path/tailer.js';
import type { Logger } from '../observability/logger.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { SloMonitor } from '../observability/slo.js';
import { CircuitBreaker, circuitStateValue } from '../peer/circuit-breaker.js';
import { HealthPinger } from '../peer/health-pinger.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import type { LocalStore } from '../store/local-store.js';

export interface PeerRuntimeDeps {
  localNodeId: string;
  store: LocalStore;
  cursors: CursorStore;
  metrics: EngineMetrics;
  logger: Logger;
  slo: SloMonitor;
  connection: PeerConnection;
  requestRepair: (peerId: string, reason: HotPathRepairReason) => void;
  recentStamps?: RecentStamps;
  now: () => number;
}

export function tailerSettingsOf(config: ReplicationConfig): TailerSettings {
  return {
    hotPath: config.settings.hot_path,
    slo: config.settings.slo,
    maxPayloadBytes: config.store.max_payload_bytes,
    maxClockSkewMs: config.store.max_clock_skew,
    maxFutureSkewMs: config.store.max_future_skew,
    memoryPollIntervalMs: config.store.memory_poll_interval,
  };
}

export class PeerRuntime {
  readonly peerId: string;
  private peerConfig: PeerConfig;
  readonly connection: PeerConnection;
  readonly breaker: CircuitBreaker;
  readonly tailer: StreamTailer;
  readonly pinger: HealthPinger;
  private hotPathRunning = false;
  /** Set once stopped: late connection or circuit events must not re-create this peer's metric series. */
  private stopped = false;
  /** Why this peer is not replicated from although configured (its store is this node's own), or null. */
  private refusal: string | null = null;

  constructor(peer: PeerConfig, engineConfig: ReplicationConfig, deps: PeerRuntimeDeps) {
    this.peerId = peer.node_id;
    this.peerConfig = peer;
    this.connection = deps.connection;
    const { metrics, logger } = deps;
    const peerId = this.peerId;

    this.breaker = new CircuitBreaker({
      failureThreshold: peer.circuit_failure_threshold,
      resetTimeoutMs: peer.circuit_reset_timeout_sec * 1000,
      now: deps.now,
    });
    metrics.peerCircuitState.labels(peerId).set(0);
    this.breaker.onChange((to, from) => {
      if (this.stopped) return;
      metrics.peerCircuitState.labels(peerId).set(circuitStateValue(to));
      const log = to === 'open' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ peer_id: peerId, from, to }, `peer circuit ${to}`);
    });

    metrics.peerConnected.labels(peerId).set(0);
    let everConnected = false;
    let lastCause: string | null = null;
    this.connection.onStateChange((event) => {
      if (this.stopped) return;
      if (event.type === 'error') {
        // Each reconnect attempt fails again with the same cause: logged when the cause changes.
        if (event.error.message !== lastCause) logger.warn({ peer_id: peerId, err: event.error }, 'peer connection failed; retrying');
        lastCause = event.error.message;
        return;
      }
      if (event.type === 'connected') {
        metrics.peerConnected.labels(peerId).set(1);
        if (everConnected) {
          metrics.peerReconnects.labels(peerId).inc();
          logger.info({ peer_id: peerId }, 'peer reconnected');
        } else logger.info({ peer_id: peerId }, 'peer connected');
        everConnected = true;
        lastCause = null;
        void this.checkIdentity(deps);
      } else if (event.type === 'disconnected') {
        metrics.peerConnected.labels(peerId).set(0);
        logger.warn({ peer_id: peerId }, 'peer disconnected; reconnecting');
      }
    });

    this.tailer = new StreamTailer({
      peerId,
      localNodeId: deps.localNodeId,
      connection: this.connection,
      store: deps.store,
      cursors: deps.cursors,
      breaker: this.breaker,
      metrics,
      logger,
      slo: deps.slo,
      requestRepair: deps.requestRepair,
      ...(deps.recentStamps ? { recentStamps: deps.recentStamps } : {}),
      now: deps.now,
    }, tailerSettingsOf(engineConfig));

    // Every successful call to the peer (hot path, cold path, pings) feeds the latency histogram and
    // the peer-op SLO. The histogram child is bound once here: no label lookup per call.
    let sloLimit = engineConfig.settings.slo.max_peer_op_latency_ms;
    const latency = metrics.peerLatency.labels(peerId);
    this.connection.onLatency((seconds) => {
      if (this.stopped) return;
      latency.observe(seconds);
      deps.slo.check(peerId, 'peer_op_latency', seconds * 1000, sloLimit, 'ms');
    });

    this.pinger = new HealthPinger({
      peerId,
      connection: this.connection,
      breaker: this.breaker,
      metrics,
      logger,
      lastActivityAt: () => this.tailer.status().lastEventAt,
      now: deps.now,
    }, engineConfig.settings.peer_health);
    this.applyLiveSettings = (config: ReplicationConfig): void => {
      sloLimit = config.settings.slo.max_peer_op_latency_ms;
      this.tailer.updateSettings(tailerSettingsOf(config));
      this.pinger.updateSettings(config.settings.peer_health);
    };
  }

  /** This peer's configuration in force. */
  get config(): PeerConfig {
    return this.peerConfig;
  }

  /**
   * A new configuration whose connection settings for this peer are unchanged (see peerNeedsReconnect):
   * the peer's own fields (priority, ...) and the settings that need no reconnection (hot path, SLO,
   * health, store limits) apply live.
   */
  reconfigure(peer: PeerConfig, engineConfig: ReplicationConfig): void {
    this.peerConfig = peer;
    this.applyLiveSettings(engineConfig);
  }

  private readonly applyLiveSettings: (config: ReplicationConfig) => void;

  /** Null, or why the peer is configured but not replicated from. */
  get refusedBecause(): string | null {
    return this.refusal;
  }

  /**
   * The configuration rules refuse a peer with the local store's URL and prefix, but a host alias
   * (127.1, a DNS name, a tunnel) reaches the same store under another URL. The store says whose it
   * is: a peer store owned by this node is this node's own stream, never replicated from.
   */
  private async checkIdentity(deps: PeerRuntimeDeps): Promise<void> {
    let owner: string | null;
    try {
      owner = (await this.connection.reader.ownerNodeId?.()) ?? null;
    } catch {
      return; // asked again on the next connection
    }
    if (this.stopped || owner === null) return;
    if (owner === deps.localNodeId) {
      this.refusal = `self_loop: peer ${this.peerId}'s store (${this.config.redis_prefix} at its redis_url) is this node's own store`;
      deps.logger.error({ peer_id: this.peerId, redis_prefix: this.config.redis_prefix }, 'peer is this node itself (its store belongs to local_node_id): not replicating from it; fix its redis_url');
      await this.setHotPath(false);
    } else if (owner !== this.peerId) {
      deps.logger.warn({ peer_id: this.peerId, store_owner: owner }, 'the peer store was last opened by another node id than the one configured for it');
    }
  }

  start(hotPathEnabled: boolean): void {
    this.pinger.start();
    this.setHotPath(hotPathEnabled);
  }

  /** Turns the tailer on or off (settings.hot_path.enabled, live). */
  setHotPath(enabled: boolean): Promise<void> {
    if (this.refusal !== null) enabled = false;
    if (enabled && !this.hotPathRunning) {
      this.hotPathRunning = true;
      this.tailer.start();
    } else if (!enabled && this.hotPathRunning) {
      this.hotPathRunning = false;
      return this.tailer.stop();
    }
    return Promise.resolve();
  }

  get hotPathEnabled(): boolean {
    return this.hotPathRunning;
  }

  /** Stops reading (the batch in flight finishes and its cursor is saved), then closes the connections. */
  async stop(): Promise<void> {
    await Promise.all([this.setHotPath(false), this.pinger.stop()]);
    this.stopped = true;
    await this.connection.close();
  }
}
