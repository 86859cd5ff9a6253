/**
 * One running node, as the daemon and the demo assemble it from a configuration: the local
 * `RedisStore`, the `ReplicationEngine` and the HTTP server, started and stopped together.
 * Configuration changes go through `reconfigure`, which refuses what needs a restart.
 */
import type { ReplicationConfig } from '../config/types.js';
import { ReplicationEngine } from '../engine/replication-engine.js';
import { limitsFromConfig } from '../http/limits.js';
import { startHttpServer, type HttpServerHandle } from '../http/server.js';
import type { Logger } from '../observability/logger.js';
import { registerProcessMetrics } from '../observability/process-metrics.js';
import { RedisStore } from '../store/redis-store.js';
import { packageVersion } from '../version.js';

/** The `store` section as RedisStore options (at start, and again on every reload). */
function storeLimits(config: ReplicationConfig): Parameters<RedisStore['updateLimits']>[0] {
  const { store } = config;
  return {
    maxPayloadBytes: store.max_payload_bytes,
    maxApplyBytes: store.max_apply_bytes,
    cdcMaxlen: store.cdc_maxlen,
    emitReplicated: store.emit_replicated,
    tombstoneTtlMs: store.tombstone_ttl,
    maxFutureSkewMs: store.max_future_skew,
    memoryThreshold: store.memory_threshold,
    memoryPollIntervalMs: store.memory_poll_interval,
  };
}

export function openStore(config: ReplicationConfig, logger: Logger): Promise<RedisStore> {
  const { local } = config;
  return RedisStore.connect({
    url: local.redis_url,
    endpoint: { username: local.username, password: local.password, tls: local.tls },
    prefix: local.redis_prefix,
    nodeId: config.local_node_id,
    ...storeLimits(config),
    logger,
  });
}

export class ReplicationNode {
  readonly store: RedisStore;
  readonly engine: ReplicationEngine;
  readonly http: HttpServerHandle | null;
  private config: ReplicationConfig;

  private constructor(config: ReplicationConfig, store: RedisStore, engine: ReplicationEngine, http: HttpServerHandle | null) {
    this.config = config;
    this.store = store;
    this.engine = engine;
    this.http = http;
  }

  /**
   * Connects the store, binds the HTTP port, then starts the engine; undoes what it did on failure.
   * The port comes before the peers so that a port in use fails the start before any replication
   * begins (and before "replication engine running" is logged); `/ready` answers 503 until the engine runs.
   */
  static async start(config: ReplicationConfig, logger: Logger): Promise<ReplicationNode> {
    const store = await openStore(config, logger);
    const engine = new ReplicationEngine(config, { store, logger });
    registerProcessMetrics(engine.metrics.registry, { version: packageVersion(), nodeId: config.local_node_id });
    let http: HttpServerHandle | null = null;
    try {
      if (config.http.enabled) {
        http = await startHttpServer({ store, engine, metrics: engine.metrics, logger }, {
          listen: config.http.listen, apiToken: config.http.api_token, limits: limitsFromConfig(config.http),
        });
        logger.info({ url: http.url }, 'HTTP API listening');
      }
      await engine.start();
      return new ReplicationNode(config, store, engine, http);
    } catch (err) {
      await http?.close();
      await engine.shutdown();
      await store.close();
      throw err;
    }
  }

  get configuration(): ReplicationConfig {
    return this.config;
  }

  /**
   * Applies a new configuration live. A change that needs a restart is refused by the engine
   * (`restart_required`) before anything is applied.
   */
  async reconfigure(next: ReplicationConfig): Promise<void> {
    await this.engine.updateConfig(next);
    this.store.updateLimits(storeLimits(next));
    this.http?.setApiToken(next.http.api_token);
    this.http?.setLimits(limitsFromConfig(next.http));
    this.config = next;
  }

  /** HTTP first (no new writes), then the engine (cursors saved), then the store connection. */
  async stop(options: { deadlineMs?: number } = {}): Promise<void> {
    await this.http?.close();
    await this.engine.shutdown(options);
    await this.store.close();
  }
}
