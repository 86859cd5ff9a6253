/**
 * The seams between the engine and a node's data (docs/architecture.md). The engine (hot path,
 * cold path) only ever talks to a local store through `LocalStore`, and reads a peer's
 * tree through `StoreReader`; `RedisStore` / `RedisStoreReader` implement them.
 */
import type { Change, ContentType, PutChange } from '../model/change.js';
import type { LeafStamp, Stamp } from '../model/stamp.js';
import type { Key } from '../model/key.js';
import type { TraceParent } from '../model/trace-parent.js';

/**
 * 'future': refused for now, stamped further ahead of the wall clock than the store's
 * max_future_skew; nothing written, the clock not moved (accepted once the clock catches up).
 */
export type ApplyOutcome = 'applied' | 'stale' | 'duplicate' | 'future';

export type { LeafStamp };

/** Read-only view of a store's tree and records; works against a peer's Redis too. */
export interface StoreReader {
  /** The tree shape marker, or null when the Redis holds no replication-engine store. */
  treeFormat(): Promise<string | null>;
  /** Root digest, lowercase hex; all zeros for an empty tree. */
  merkleRoot(): Promise<string>;
  /** Non-zero branch digests: branch id (2 hex chars) → digest. */
  branchDigests(): Promise<Map<string, string>>;
  /** Several branches' non-zero bucket digests in one round trip: bucket id (4 hex) → digest. */
  bucketDigests(branches: readonly string[]): Promise<Map<string, Map<string, string>>>;
  /** Several buckets' leaves in one round trip (pipelined): bucket id → key → stamp. */
  bucketLeaves(buckets: readonly string[]): Promise<Map<string, Map<string, LeafStamp>>>;
  /** Current records and tombstones of these keys, as changes (absent keys are left out). */
  fetchChanges(keys: readonly string[]): Promise<Change[]>;
  /**
   * Content bytes of each key's record, in order (0 for a tombstone or an absent key), in one round
   * trip: the cold path sizes its fetches with it. Optional: without it a fetch is bounded by count.
   */
  recordSizes?(keys: readonly string[]): Promise<number[]>;
  /** The node id the store's own engine wrote into it, null when none did. Optional. */
  ownerNodeId?(): Promise<string | null>;
}

/** What the replication engine needs from the node's own store. */
export interface LocalStore extends StoreReader {
  readonly nodeId: string;
  /**
   * Applies a batch in one round trip; per change atomic: LWW on (hlc, origin), record or
   * tombstone write, tree update, re-emit when enabled. One outcome per change, in order.
   */
  applyChanges(changes: readonly Change[]): Promise<ApplyOutcome[]>;
  /** True when the key's live record has this content hash. */
  isCurrent(key: string, hash: string): Promise<boolean>;
  /**
   * False while local Redis memory is above the configured share of maxmemory (polled ≤ 1/s).
   * Rejects (code `memory_check_failed`) when Redis cannot tell: callers must not write then.
   */
  shouldAcceptWrites(): Promise<boolean>;
  /** Round trip to the local Redis; throws when it does not answer. */
  ping(): Promise<void>;
  /** Number of live keys. */
  keyCount(): Promise<number>;
  /** Drops tombstones older than the store's tombstone TTL; how many. Optional: a store may keep them. */
  collectTombstones?(): Promise<number>;
  /**
   * Where the store's data stands, for telling that it was lost or went back in time; re-asserts
   * the tree format marker a flushed Redis lost (without it every cold path refuses the store).
   * Each call advances the epoch. Optional.
   */
  checkData?(): Promise<StoreDataState>;
  /** Raises the store's clock to at least `hlc`; true when it was lower. Optional (with checkData). */
  raiseClock?(hlc: string): Promise<boolean>;
  /**
   * The greatest stamp this process has written or applied to the store, or null. Kept in memory, so
   * it survives the store losing its data: a write made since the last data check is above that
   * check's clock, and the clock must be raised above it too.
   */
  highestStamp?(): string | null;
}

/** See LocalStore.checkData. */
export interface StoreDataState {
  /**
   * An id of the store's current data, made when the store is first asked (`fresh` true then).
   * A Redis that lost its data loses the id with it: a new id means everything it held is gone.
   */
  incarnation: string;
  fresh: boolean;
  /**
   * A counter in the data, advanced by every check: a value not above the last one seen means the
   * data went back in time (a Redis restarted from an older RDB/AOF snapshot, a stale replica).
   */
  epoch: number;
  /** The Redis server's `run_id`: a new one means it restarted (and may have lost its last writes). */
  serverRunId: string | null;
  /** The store's clock (last stamp issued or seen), null when it has none. */
  clock: string | null;
}

export interface PutOptions {
  contentType?: ContentType;
  traceParent?: string;
}

export interface WriteResult extends Stamp {
  key: string;
  hash: string;
  version: number;
}

export interface DeleteResult extends Stamp {
  key: string;
}

/** A live record as the store returns it: a PUT without its op and wire bytes. */
export type StoredRecord = Omit<PutChange, 'op' | 'wireData'>;

export interface ScanPage {
  items: StoredRecord[];
  /** Opaque; null on the last page. */
  cursor: string | null;
}

/** The application API of a node's store (HTTP `/v1/items`, library users). */
/** A put whose every field has been checked (store/local-writes.ts checkPut, or the HTTP route's parsing). */
export interface CheckedPut {
  readonly key: Key;
  /** At most the store's max_payload_bytes (checked again, cheaply, when written). */
  readonly content: Buffer;
  readonly contentType: ContentType;
  readonly traceParent: TraceParent | '';
}

export interface ApplicationStore {
  put(key: string, content: Buffer, options?: PutOptions): Promise<WriteResult>;
  /** As put, for a caller that has checked every field already (no check is made twice). */
  putChecked(write: CheckedPut): Promise<WriteResult>;
  /** As delete, for a key checked already. */
  deleteChecked(key: Key): Promise<DeleteResult>;
  get(key: string): Promise<StoredRecord | null>;
  delete(key: string): Promise<DeleteResult>;
  scan(options: { prefix?: string; cursor?: string | null; limit: number }): Promise<ScanPage>;
}
