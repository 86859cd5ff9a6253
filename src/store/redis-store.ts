/**
 * The node's local store in its own Redis (docs/architecture.md): the application API (put, get,
 * delete, scan) and the replication API (applyChanges and the tree reads). Every write is
 * one Lua script that updates the record, the Merkle tree and the CDC stream together.
 */
import type { Redis } from 'ioredis';
import { ReplicationError, ValidationError } from '../errors.js';
import type { Change } from '../model/change.js';
import { assertValidKey, type Key } from '../model/key.js';
import { assertNodeId } from '../model/node-id.js';
import { isTooFarAhead } from '../model/future-stamp.js';
import { DEFAULTS } from '../defaults.js';
import { HLC_MAX_PHYSICAL_MS, isHlc } from '../model/hlc.js';
import { bucketOf } from '../merkle/tree-shape.js';
import { connectOnce, createRedisClient } from '../redis/connect.js';
import { runApply, runGc, runRaiseClock, runScan, type ApplyContext } from './commands/calls.js';
import { applyChunks } from './commands/apply-chunks.js';
import type { WriteContext } from './commands/write.js';
import { LocalWrites } from './local-writes.js';
import { META_FIELDS } from './keys.js';
import { RedisStoreReader, changeToRecord, scriptRefusal } from './store-reader.js';
import { leafHoldsHash } from './leaf.js';
import { assertStorableChange } from './validate-change.js';
import { MemoryGuard } from './memory-guard.js';
import { decodeScanCursor, encodeScanCursor } from './scan-cursor.js';
import { silentLogger } from '../observability/logger.js';
import { PendingCalls, watchConnection } from './pending-calls.js';
import { checkData, initFormat, restoreFormatMarker, type FormatContext } from './store-format.js';
import { checkedApplyBytes, checkedLimits, checkedPollInterval, checkedSkew, checkedThreshold, type RedisStoreOptions, type StoreLimits } from './store-options.js';
import type {
  ApplicationStore, ApplyOutcome, CheckedPut, DeleteResult, PutOptions, ScanPage, StoreDataState, StoredRecord, LocalStore, WriteResult,
} from './local-store.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const GC_BATCH = 1000;
const OUTCOMES: Record<number, ApplyOutcome> = { 0: 'stale', 1: 'applied', 2: 'duplicate', 3: 'future' };
/** Changes per apply script call (see applyChanges); measured in bench/b1-hot-path.ts. */
export const APPLY_CHUNK = 500;

export { MAX_FUTURE_SKEW_LIMIT_MS, type RedisStoreOptions, type StoreLimits } from './store-options.js';
export class RedisStore extends RedisStoreReader implements LocalStore, ApplicationStore {
  readonly nodeId: string;
  // Limits from the `store` configuration section; `updateLimits` changes them on a reload.
  maxPayloadBytes: number;
  maxApplyBytes: number;
  private readonly maxScanBytes: number;
  cdcMaxlen: number;
  emitReplicated: boolean;
  tombstoneTtlMs: number;
  maxFutureSkewMs: number;
  private readonly ownsClient: boolean;
  private readonly now: () => number;
  private readonly memory: MemoryGuard;
  private readonly calls: PendingCalls;
  private readonly writes: LocalWrites;
  /** See highestStamp(). */
  private highest: string | null = null;

  private constructor(redis: Redis, ownsClient: boolean, options: RedisStoreOptions) {
    super(redis, options.prefix ?? '');
    this.nodeId = assertNodeId(options.nodeId, 'nodeId');
    this.ownsClient = ownsClient;
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes;
    this.maxApplyBytes = checkedApplyBytes(options.maxApplyBytes ?? DEFAULTS.maxApplyBytes);
    this.maxScanBytes = checkedApplyBytes(options.maxScanBytes ?? DEFAULTS.maxApplyBytes, 'maxScanBytes');
    this.cdcMaxlen = options.cdcMaxlen ?? DEFAULTS.cdcMaxlen;
    this.emitReplicated = options.emitReplicated ?? true;
    this.tombstoneTtlMs = options.tombstoneTtlMs ?? DEFAULTS.tombstoneTtlMs;
    this.maxFutureSkewMs = checkedSkew(options.maxFutureSkewMs ?? DEFAULTS.maxFutureSkewMs);
    this.now = options.now ?? Date.now;
    const threshold = checkedThreshold(options.memoryThreshold ?? DEFAULTS.memoryThreshold);
    const pollIntervalMs = checkedPollInterval(options.memoryPollIntervalMs ?? 1000);
    this.memory = new MemoryGuard(() => this.call(() => redis.info('memory')), { threshold, pollIntervalMs, now: this.now });
    this.writes = new LocalWrites({
      redis, nodeId: this.nodeId, call: (command) => this.call(command), context: () => this.writeContext(),
      maxPayloadBytes: () => this.maxPayloadBytes, maxCallBytes: () => this.maxApplyBytes,
    });
    // Re-asserts the tree format marker whenever the client (re)connects; see restoreFormatMarker.
    this.calls = new PendingCalls(redis, () => {
      if (!this.calls.closed) void restoreFormatMarker({ redis, keys: this.keys });
    });
  }

  /** Applies new limits (a configuration reload); validated first, so a bad value changes nothing. */
  updateLimits(limits: StoreLimits): void {
    const checked = checkedLimits(limits);
    if (checked.maxPayloadBytes !== undefined) this.maxPayloadBytes = checked.maxPayloadBytes;
    if (checked.maxApplyBytes !== undefined) this.maxApplyBytes = checked.maxApplyBytes;
    if (checked.cdcMaxlen !== undefined) this.cdcMaxlen = checked.cdcMaxlen;
    if (checked.tombstoneTtlMs !== undefined) this.tombstoneTtlMs = checked.tombstoneTtlMs;
    if (checked.emitReplicated !== undefined) this.emitReplicated = checked.emitReplicated;
    if (checked.maxFutureSkewMs !== undefined) this.maxFutureSkewMs = checked.maxFutureSkewMs;
    this.memory.configure({ threshold: checked.memoryThreshold, pollIntervalMs: checked.memoryPollIntervalMs });
  }

  /** Connects, checks the tree format marker (writing it on a new store) and returns the store. */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    let redis = options.redis;
    const owns = redis === undefined;
    if (!redis) {
      if (!options.url) throw new ValidationError('invalid_option', 'url', 'a Redis URL or client is required');
      // No resending of the commands a dropped connection left unanswered: Redis drops the connection
      // on a command it refuses (an argument above proto-max-bulk-len), and resending it would do so
      // again, forever, holding its bytes. The caller sees the failure; its retry is harmless (LWW).
      redis = createRedisClient({ redis_url: options.url, ...options.endpoint }, {
        connectionName: `re-store:${options.nodeId}`, autoResendUnfulfilledCommands: false, lazyConnect: true,
      });
      watchConnection(redis, options.logger ?? silentLogger());
      await connectOnce(redis, 'the local Redis', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    }
    try {
      // Inside the try: an invalid option must not leak the client just created.
      const store = new RedisStore(redis, owns, options);
      await initFormat(store.formatContext(), options.logger ?? silentLogger());
      return store;
    } catch (err) {
      if (owns) redis.disconnect();
      throw err;
    }
  }

  /** The local data check's reading (store-format.ts). */
  checkData(): Promise<StoreDataState> {
    return checkData(this.formatContext());
  }

  private formatContext(): FormatContext {
    return {
      redis: this.redis, keys: this.keys, nodeId: this.nodeId,
      call: (command) => this.call(command), exec: (tx) => this.exec(tx), treeFormat: () => this.treeFormat(),
    };
  }

  /** Raises the store's clock to at least `hlc` (see commands/raise-clock.lua); true when it was lower. */
  async raiseClock(hlc: string): Promise<boolean> {
    if (!isHlc(hlc)) throw new ValidationError('invalid_hlc', 'hlc', `"${hlc}" is not an HLC timestamp`);
    return this.call(() => runRaiseClock(this.redis, this.keys.prefix, hlc));
  }

  /**
   * Closes the store's own client (a client passed in is left open). Calls still waiting when
   * the connection is down are rejected with `store_closed`: ioredis's disconnect() while it
   * waits to reconnect leaves queued commands pending forever (redis/ioredis#2197), which would
   * hang whoever awaits them, e.g. a shutdown finishing its batch. Such a write may or may not
   * have been applied; the LWW apply makes a retry harmless.
   */
  async close(): Promise<void> {
    this.calls.close(this.keys.prefix);
    if (!this.ownsClient) return;
    // QUIT is answered after every reply before it, so a live connection settles its calls itself.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
    this.calls.rejectAll(new ReplicationError('store_closed', 'the store was closed while the call waited for the local Redis; its outcome is unknown'));
  }

  protected override call<T>(command: () => Promise<T>): Promise<T> {
    return this.calls.run(command, (err) => this.outOfMemory(err) ?? scriptRefusal(err) ?? err);
  }

  /**
   * Redis refusing a write with OOM (maxmemory reached before the memory guard's next poll saw
   * it) is the guard's "not now", not a failure: the guard refuses until its next poll, and the
   * caller gets `not_accepting_writes` (HTTP 503, hot path backoff) instead of a raw reply error.
   */
  private outOfMemory(err: unknown): ReplicationError | null {
    // The OOM code leads the reply, or follows "-" inside a script's error on older Redis.
    if (!(err instanceof Error) || !/(^|[\s-])OOM /.test(err.message)) return null;
    this.memory.refuse();
    return new ReplicationError('not_accepting_writes', 'the local Redis refused the write: it is at maxmemory (OOM); retry later', { cause: err });
  }

  /** The client, for components that share the connection (e.g. health checks). */
  get client(): Redis {
    return this.redis;
  }

  // ── application API ────────────────────────────────────────────────────────

  async put(key: string, content: Buffer, options: PutOptions = {}): Promise<WriteResult> {
    const written = await this.writes.put(key, content, options);
    this.noteStamp(written.hlc);
    return written;
  }

  async putChecked(write: CheckedPut): Promise<WriteResult> {
    const written = await this.writes.putChecked(write);
    this.noteStamp(written.hlc);
    return written;
  }

  async delete(key: string): Promise<DeleteResult> {
    const deleted = await this.writes.delete(key);
    this.noteStamp(deleted.hlc);
    return deleted;
  }

  async deleteChecked(key: Key): Promise<DeleteResult> {
    const deleted = await this.writes.deleteChecked(key);
    this.noteStamp(deleted.hlc);
    return deleted;
  }

  async get(key: string): Promise<StoredRecord | null> {
    assertValidKey(key);
    const [change] = await this.fetchRecords([key]);
    return change && change.op === 'PUT' ? changeToRecord(change) : null;
  }

  async scan(options: { prefix?: string; cursor?: string | null; limit: number }): Promise<ScanPage> {
    const prefix = options.prefix ?? '';
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 10_000) {
      throw new ValidationError('invalid_limit', 'limit', 'must be an integer from 1 to 10000');
    }
    let after: string | null = null;
    if (options.cursor) {
      after = decodeScanCursor(options.cursor);
      if (!after.startsWith(prefix)) throw new ValidationError('invalid_cursor', 'cursor', 'does not belong to this prefix');
    }
    // Keys are UTF-8, which never contains the byte 0xff: "[prefix" … "(prefix\xff" is exactly the prefix range.
    const min = after === null ? Buffer.from(`[${prefix}`) : Buffer.from(`(${after}`);
    const max = Buffer.concat([Buffer.from(`(${prefix}`), Buffer.from([0xff])]);
    const endKey = max.subarray(1);
    let keys = (await this.call(() => runScan(this.redis, { prefix: this.keys.prefix, min, max, endKey, limit: options.limit }))).map((k) => k.toString('utf8'));
    let more = keys.length === options.limit;
    // A page of 1000 records of 16 MiB would be 16 GB: sized first, cut at maxScanBytes.
    const fit = fittingCount(await this.recordSizes(keys), this.maxScanBytes);
    if (fit < keys.length) {
      keys = keys.slice(0, fit);
      more = true;
    }
    const changes = await this.fetchRecords(keys);
    const items: StoredRecord[] = [];
    for (const c of changes) if (c && c.op === 'PUT') items.push(changeToRecord(c));
    const last = keys[keys.length - 1];
    return { items, cursor: more && last !== undefined ? encodeScanCursor(last) : null };
  }

  // ── replication API ────────────────────────────────────────────────────────

  applyChanges(changes: readonly Change[]): Promise<ApplyOutcome[]> {
    if (changes.length === 0) return Promise.resolve([]);
    // Every change is checked before anything is sent: a bad change changes nothing.
    // A big batch goes as several script calls of at most APPLY_CHUNK changes and maxApplyBytes
    // packed bytes (apply-chunks.ts; a bigger change alone), all sent at once
    // (pipelined: still one round trip). Redis starts on the first chunk while this process is
    // still encoding the next ones, instead of idling until the whole batch is encoded. Each
    // change stays atomic (docs/architecture.md: the unit of atomicity is the change, never the batch);
    // chunks run in order; if one fails the call rejects and the caller's retry is harmless.
    // Not an async function: once packed, the changes (and their contents) are not held while
    // the replies are awaited. A failure here is a rejection, never a throw.
    // A change stamped too far ahead (store.max_future_skew) is not sent: its outcome is 'future'.
    // The script checks the same bound with the same wall-clock reading.
    const calls: Promise<number[]>[] = [];
    const context: ApplyContext = { prefix: this.keys.prefix, emit: this.emitReplicated, cdcMaxlen: this.cdcMaxlen, nowMs: 0, maxAheadMs: this.maxFutureSkewMs };
    const sent: Change[] = [];
    const future: boolean[] = [];
    try {
      changes.forEach((c, i) => assertStorableChange(c, `changes[${i}]`, this.maxPayloadBytes));
      const now = this.wallClock();
      for (const c of changes) {
        const ahead = isTooFarAhead(c.hlc, now, this.maxFutureSkewMs);
        future.push(ahead);
        if (!ahead) sent.push(c);
      }
      for (const [start, end] of applyChunks(sent, APPLY_CHUNK, this.maxApplyBytes)) {
        const chunk = sent.slice(start, end);
        calls.push(this.call(() => runApply(this.redis, { ...context, nowMs: now }, chunk)));
      }
    } catch (err) {
      // Chunks already sent still settle; the caller sees one rejection, and its retry is harmless.
      for (const call of calls) call.catch(() => undefined);
      return Promise.reject(err as Error);
    }
    return Promise.all(calls).then((codes) => {
      const outcomes = codes.flat();
      let next = 0;
      return changes.map((c, i): ApplyOutcome => {
        const outcome = future[i] ? 'future' : OUTCOMES[outcomes[next++]!] ?? 'stale';
        if (outcome === 'applied') this.noteStamp(c.hlc);
        return outcome;
      });
    });
  }

  private writeContext(): WriteContext {
    return { prefix: this.keys.prefix, nodeId: this.nodeId, nowMs: this.wallClock(), cdcMaxlen: this.cdcMaxlen, maxAheadMs: this.maxFutureSkewMs };
  }

  highestStamp(): string | null {
    return this.highest;
  }

  /** As the store's clock: never past the bound (a local write may overwrite a key stamped beyond it). */
  private noteStamp(hlc: string): void {
    if (isTooFarAhead(hlc, this.now(), this.maxFutureSkewMs)) return;
    if (this.highest === null || hlc > this.highest) this.highest = hlc;
  }

  /** The wall clock, checked: the scripts' clock arithmetic is exact only within the stamp range. */
  private wallClock(): number {
    const now = this.now();
    if (!Number.isSafeInteger(now) || now < 0 || now > HLC_MAX_PHYSICAL_MS) {
      throw new ReplicationError('bad_wall_clock', `the wall clock reads ${now}, outside the stamp range 0 .. ${HLC_MAX_PHYSICAL_MS}`);
    }
    return now;
  }

  async isCurrent(key: string, hash: string): Promise<boolean> {
    const leaf = await this.call(() => this.redis.hgetBuffer(this.keys.leaves(bucketOf(key)), key));
    return leaf !== null && leafHoldsHash(leaf, hash);
  }

  shouldAcceptWrites(): Promise<boolean> {
    return this.call(() => this.memory.accepting());
  }

  async ping(): Promise<void> {
    await this.call(() => this.redis.ping());
  }

  async keyCount(): Promise<number> {
    return Number((await this.call(() => this.redis.hget(this.keys.meta, META_FIELDS.liveCount))) ?? 0);
  }

  /** The store's clock: the last stamp it issued or saw. */
  async lastHlc(): Promise<string | null> {
    return this.call(() => this.redis.hget(this.keys.meta, META_FIELDS.clock));
  }

  /** Drops tombstones older than the TTL (by their HLC time); returns how many. */
  async collectTombstones(nowMs = this.now()): Promise<number> {
    const cutoff = nowMs - this.tombstoneTtlMs;
    let total = 0;
    for (;;) {
      const dropped = await this.call(() => runGc(this.redis, { prefix: this.keys.prefix, cutoffMs: cutoff, limit: GC_BATCH }));
      total += dropped;
      if (dropped < GC_BATCH) return total;
    }
  }
}

/** How many of `sizes`, from the first, fit in `maxBytes` (at least one). */
function fittingCount(sizes: readonly number[], maxBytes: number): number {
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    bytes += sizes[i]!;
    if (i > 0 && bytes > maxBytes) return i;
  }
  return sizes.length;
}
