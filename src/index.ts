/**
 * Public API of replication-engine, for library use. The daemon (`replication-engine run`)
 * is built from exactly these parts.
 */
export { ReplicationError, ValidationError } from './errors.js';

// Data model.
export type { Change, PutChange, DelChange, CdcEntry, ContentType } from './model/change.js';
export { compareStamps, stampWins, type Stamp } from './model/stamp.js';
export { formatHlc, parseHlc, nextHlc, successorHlc, isHlc, HLC_MAX_PHYSICAL_MS } from './model/hlc.js';
export { isTooFarAhead, DEFAULT_MAX_FUTURE_SKEW_MS } from './model/future-stamp.js';

// Wire format.
export * from './cdc/index.js';

// Local store.
export { RedisStore, type RedisStoreOptions } from './store/redis-store.js';
export { RedisStoreReader } from './store/store-reader.js';
export type {
  LocalStore, StoreReader, ApplicationStore, ApplyOutcome, LeafStamp, StoredRecord, WriteResult, DeleteResult, ScanPage, PutOptions,
} from './store/local-store.js';
/** @deprecated The local-store seam is `LocalStore` ("sync-engine" names the Rust peer); this alias goes in the next major version. */
export type { LocalStore as SyncEngine } from './store/local-store.js';
export { TREE_FORMAT } from './merkle/tree-shape.js';

// Engine.
export * from './engine/index.js';
export type { CursorStore } from './cursor/cursor-store.js';
export { SqliteCursorStore } from './cursor/sqlite-cursor-store.js';
export type { PeerConnection } from './peer/peer-connection.js';
export { RedisPeerConnection } from './peer/redis-peer-connection.js';
export { EngineMetrics } from './observability/metrics.js';
export { createLogger, type Logger } from './observability/logger.js';

// Configuration.
export * from './config/index.js';

// Cold path (also what `replication-engine verify` uses).
export * from './cold-path/index.js';

// HTTP API and the daemon's building blocks.
export { startHttpServer, type HttpServerHandle, type HttpServerOptions, type HttpServerDeps } from './http/index.js';
export { ReplicationNode } from './daemon/node.js';
export { Daemon, type DaemonOptions } from './daemon/daemon.js';
