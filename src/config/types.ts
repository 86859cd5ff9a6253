/**
 * The parsed configuration: the file's own snake_case keys (one vocabulary from YAML to code),
 * every default filled in, durations converted to milliseconds. `schema.ts` produces exactly
 * these types (checked at compile time there).
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** TLS options for a `rediss://` connection. Files are read by the engine when it connects. */
export interface TlsConfig {
  /** PEM file of the CA(s) to trust instead of the system store. */
  ca_file?: string;
  /** PEM client certificate (mutual TLS); requires `key_file`. */
  cert_file?: string;
  /** PEM private key for `cert_file`. */
  key_file?: string;
  /** Verify the server certificate. Default true; false is for tests only. */
  reject_unauthorized: boolean;
  /** SNI / certificate host name when it differs from the URL's host. */
  servername?: string;
}

/** How to reach one node's Redis: shared by the local store and every peer. */
export interface RedisConnectionConfig {
  /** `redis://` or `rediss://` URL with an explicit port; may carry `user:password@` and `/db`. */
  redis_url: string;
  /** Prefix of every key the node owns in that Redis (its records, tree, `{prefix}cdc` stream). Default "". */
  redis_prefix: string;
  /** ACL user; overrides the URL's. */
  username?: string;
  /** Password; overrides the URL's. Usually `${REDIS_PASSWORD}`. */
  password?: string;
  /** TLS options; only allowed with a `rediss://` URL. */
  tls?: TlsConfig;
}

/** The node's own store. */
export type LocalStoreConfig = RedisConnectionConfig;

export interface PeerConfig extends RedisConnectionConfig {
  /** The peer's node id: unique in `peers`, different from `local_node_id`. */
  node_id: string;
  /** Cold-path order: lower runs first. Default 0. */
  priority: number;
  /** Consecutive failures that open the peer's circuit. Default 5. */
  circuit_failure_threshold: number;
  /** Seconds an open circuit waits before a half-open trial call. Default 30. */
  circuit_reset_timeout_sec: number;
}

export interface HttpConfig {
  /** `host:port` (`[::1]:8790` for IPv6) of the health/metrics/API listener. Default "127.0.0.1:8790". */
  listen: string;
  /** Bearer token required by the API when set (at least 16 characters). */
  api_token?: string;
  /** Serve HTTP at all. Default true. */
  enabled: boolean;
  /** Open connections at most; more are closed on accept. Default 1024. */
  max_connections: number;
  /** Request body bytes held at once across all requests; past it a request gets 503. Default 64 MiB. */
  max_inflight_body_bytes: number;
  /** Deepest nesting accepted in a JSON record. Default 128. */
  max_json_depth: number;
  /** ms to receive the request headers. Default 10000. */
  headers_timeout: number;
  /** ms to receive the whole request, body included. Default 30000. */
  request_timeout: number;
  /** ms an idle keep-alive connection stays open. Default 5000. */
  keep_alive_timeout: number;
  /** ms a request waits for the local Redis before 503. Default 2000. */
  store_timeout: number;
}

export interface StoreConfig {
  /** Largest content accepted, written or decompressed, in bytes. Default 16 MiB; 1 byte .. 512 MiB. */
  max_payload_bytes: number;
  /** Approximate length cap of the node's CDC stream (`XADD MAXLEN ~`). Default 100000. */
  cdc_maxlen: number;
  /** Re-emit changes applied from peers to the node's own stream. Default true. */
  emit_replicated: boolean;
  /** Milliseconds a tombstone is kept, by its hlc time. Default 7 days; at least 1 s. */
  tombstone_ttl: number;
  /** Milliseconds between tombstone collection sweeps. Default 60 s; at least 1 s. */
  tombstone_gc_interval: number;
  /** Milliseconds a received stamp may be ahead of the wall clock before it is logged and counted (still applied up to max_future_skew). Default 10 s. */
  max_clock_skew: number;
  /**
   * Milliseconds a received stamp may be ahead of the wall clock; further ahead it is refused until
   * the clock catches up, and the local clock never runs further ahead. Default: the larger of 60 s
   * and max_clock_skew; 1 s .. 366 days.
   */
  max_future_skew: number;
  /** Fraction of Redis `maxmemory` above which replication pauses writes (0 < x ≤ 1). Default 0.9. */
  memory_threshold: number;
  /** Milliseconds between memory checks for backpressure. Default 1 s; at least 100 ms. */
  memory_poll_interval: number;
  /** Packed bytes per apply script call (a bigger record goes alone). Default 32 MiB; 1 byte .. 512 MiB. */
  max_apply_bytes: number;
}

export interface LoggingConfig {
  /** pino level. Default "info". */
  level: LogLevel;
}

export interface HotPathSettings {
  /** Tail peers' CDC streams. Default true. */
  enabled: boolean;
  /** Entries per XREAD (the starting size when adaptive). Default 100. */
  batch_size: number;
  /** Milliseconds an XREAD blocks waiting for entries. Default 5 s; 10 ms .. 60 s. */
  block_timeout: number;
  /** Grow/shrink the read size with load (AIMD) between min and max. Default false. */
  adaptive_batch_size: boolean;
  /** Smallest adaptive read size. Default 50. */
  min_batch_size: number;
  /** Largest adaptive read size. Default 1000. */
  max_batch_size: number;
  /** Cap entries applied per second per peer. Default false. */
  rate_limit_enabled: boolean;
  /** Sustained entries per second per peer when rate limited. Default 10000. */
  rate_limit_per_sec: number;
  /** Token-bucket burst size. Default 1000. */
  rate_limit_burst: number;
  /** Bytes one XREAD should return: its COUNT is capped by this over the largest entry seen lately. Default 32 MiB. */
  max_read_bytes: number;
  /** Decoded content bytes per batch (a bigger record goes alone). Default 32 MiB. */
  max_batch_bytes: number;
}

export interface ColdPathSettings {
  /** Run Merkle anti-entropy. Default true. */
  enabled: boolean;
  /** Seconds between repair cycles. Default 60. */
  interval_sec: number;
  /** Keys fetched per peer per cycle; the rest waits for the next cycle. Default 1000. */
  max_items_per_cycle: number;
  /** Seconds of the first backoff after a failed cycle with a peer. Default 5. */
  backoff_base_sec: number;
  /** Seconds the backoff never exceeds. Default 300. */
  backoff_max_sec: number;
  /** Record bytes fetched from a peer and applied per repair round (a bigger record goes alone). Default 32 MiB. */
  max_fetch_bytes: number;
}

export interface PeerHealthSettings {
  /** Ping idle peers. Default true. */
  enabled: boolean;
  /** Seconds between pings of an idle peer. Default 30. */
  ping_interval_sec: number;
  /** Seconds without traffic after which a peer counts as idle. Default 60. */
  idle_threshold_sec: number;
}

export interface SloSettings {
  /** Warn when one XREAD round trip takes longer (ms). Default 100. */
  max_stream_read_latency_ms: number;
  /** Warn when a peer query takes longer (ms). Default 500. */
  max_peer_op_latency_ms: number;
  /** Warn when applying one batch takes longer (ms). Default 200. */
  max_batch_flush_latency_ms: number;
  /** Warn when a peer's replication lag exceeds this (seconds). Default 30. */
  max_replication_lag_sec: number;
}

export interface Settings {
  hot_path: HotPathSettings;
  cold_path: ColdPathSettings;
  peer_health: PeerHealthSettings;
  slo: SloSettings;
}

export interface CursorConfig {
  /** SQLite file holding one cursor per peer. Default "replication_cursors.db". */
  sqlite_path: string;
  /** Open the database in WAL mode. Default true. */
  wal_mode: boolean;
}

/** What is under `replication:` in the file, validated and completed. */
export interface ReplicationConfig {
  /** This node's id (see `isNodeId`). */
  local_node_id: string;
  local: LocalStoreConfig;
  http: HttpConfig;
  store: StoreConfig;
  logging: LoggingConfig;
  settings: Settings;
  /** Default []. */
  peers: PeerConfig[];
  cursor: CursorConfig;
}
