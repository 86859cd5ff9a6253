/**
 * Defaults that both the configuration schema and the library's own constructors apply (a
 * `RedisStore`, a codec or a repair made without a configuration file): one table, so the two
 * can never drift apart. docs/configuration.md says why each value is what it is.
 */
const MiB = 1024 * 1024;

export const DEFAULTS = {
  /** Largest record content; also the decompression bound of a CDC entry. */
  maxPayloadBytes: 16 * MiB,
  /** Entries kept in a node's CDC stream (`XADD … MAXLEN ~`). */
  cdcMaxlen: 100_000,
  tombstoneTtlMs: 7 * 24 * 3600 * 1000,
  /** Fraction of Redis `maxmemory` above which writes are refused and replication pauses. */
  memoryThreshold: 0.9,
  /** A received stamp further ahead of the wall clock than this is refused for now. */
  maxFutureSkewMs: 60_000,
  /** Packed bytes per apply script call (one Redis argument). */
  maxApplyBytes: 32 * MiB,
  /** XREAD reply bytes the hot path plans for. */
  maxReadBytes: 32 * MiB,
  /** Decoded content bytes per hot-path batch. */
  maxBatchBytes: 32 * MiB,
  /** Record bytes per cold-path fetch/apply round. */
  maxFetchBytes: 32 * MiB,
  /** A peer's connections retry from this delay, doubling (with jitter) up to the cap below. */
  peerReconnectBaseMs: 100,
  /** Longest wait between two connection attempts to a peer that stays down. */
  peerReconnectMaxMs: 10_000,
  http: {
    maxConnections: 1024,
    maxInflightBodyBytes: 64 * MiB,
    /** serde_json's default recursion limit: deeper documents would fail in Rust readers. */
    maxJsonDepth: 128,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    storeTimeoutMs: 2_000,
  },
} as const;
