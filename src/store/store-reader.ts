/**
 * Reads a store's tree and records through any Redis connection: the node's own, or a
 * peer's (read-only; the cold path drills down and fetches with it). Every multi-key read
 * is one round trip (a pipeline, a MULTI or one read-only script) per drill-down level.
 */
import type { Redis } from 'ioredis';
import { ReplicationError } from '../errors.js';
import type { Change } from '../model/change.js';
import { StoreKeys, META_FIELDS } from './keys.js';
import { leafOriginId, leafToChange, parseLeaf } from './leaf.js';
import type { LeafStamp, StoreReader, StoredRecord } from './local-store.js';
import { DIGEST_BYTES, ZERO_DIGEST, bucketsOfBranch } from '../merkle/tree-shape.js';
import { runBucketDigests, runBucketLeaves, runFetchRecords } from './commands/calls.js';

export class RedisStoreReader implements StoreReader {
  protected readonly redis: Redis;
  readonly keys: StoreKeys;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.keys = new StoreKeys(prefix);
  }

  /** Every Redis call goes through here, so a subclass that can be closed can settle the calls it strands. */
  protected call<T>(command: () => Promise<T>): Promise<T> {
    return command().catch((err: unknown) => {
      throw scriptRefusal(err) ?? err;
    });
  }

  async treeFormat(): Promise<string | null> {
    return this.call(() => this.redis.hget(this.keys.meta, META_FIELDS.format));
  }

  async ownerNodeId(): Promise<string | null> {
    return this.call(() => this.redis.hget(this.keys.meta, META_FIELDS.owner));
  }

  async merkleRoot(): Promise<string> {
    return (await this.call(() => this.redis.hget(this.keys.meta, META_FIELDS.root))) ?? ZERO_DIGEST;
  }

  async branchDigests(): Promise<Map<string, string>> {
    const raw = await this.call(() => this.redis.hgetallBuffer(this.keys.branches));
    return new Map(Object.entries(raw).map(([branch, d]) => [branch, digestHex(d, `branch ${branch}`)]));
  }

  async bucketDigests(branches: readonly string[]): Promise<Map<string, Map<string, string>>> {
    if (branches.length === 0) return new Map();
    // One script call for all of them (commands/bucket-digests.lua): 256 HGETs per branch run in
    // the server, and the reply is one 5 KiB string per branch instead of 256 replies to parse.
    const replies = await this.call(() => runBucketDigests(this.redis, this.keys.prefix, branches));
    if (!Array.isArray(replies) || replies.length !== branches.length) {
      throw new ReplicationError('bad_tree', `bucket digests of ${branches.length} branches: unexpected reply`);
    }
    return new Map(branches.map((branch, i) => {
      const packed = replies[i] as Buffer;
      if (!Buffer.isBuffer(packed) || packed.length !== 256 * DIGEST_BYTES) {
        throw new ReplicationError('bad_tree', `branch ${branch}'s bucket digests: unexpected reply`);
      }
      const digests = new Map<string, string>();
      bucketsOfBranch(branch).forEach((bucket, j) => {
        const digest = packed.subarray(j * DIGEST_BYTES, (j + 1) * DIGEST_BYTES);
        if (!isZero(digest)) digests.set(bucket, digest.toString('hex'));
      });
      return [branch, digests];
    }));
  }

  async bucketLeaves(buckets: readonly string[]): Promise<Map<string, Map<string, LeafStamp>>> {
    if (buckets.length === 0) return new Map();
    // One read-only script (commands/bucket-leaves.lua): the leaves and the names of the origins
    // they name by id, read together, so no id can be read against another table.
    const reply = await this.call(() => runBucketLeaves(this.redis, this.keys.prefix, buckets));
    if (!Array.isArray(reply) || reply.length !== buckets.length + 1 || !reply.every((r) => Array.isArray(r) && r.every(Buffer.isBuffer))) {
      throw new ReplicationError('bad_tree', `leaves of ${buckets.length} buckets: unexpected reply`);
    }
    const flats = reply as Buffer[][];
    const names = originNames(flats[buckets.length]!);
    return new Map(buckets.map((b, i) => {
      const leaves = new Map<string, LeafStamp>();
      const flat = flats[i]!;
      for (let j = 0; j + 1 < flat.length; j += 2) {
        const key = flat[j]!.toString('utf8');
        const raw = flat[j + 1]!;
        leaves.set(key, parseLeaf(raw, key, names.get(leafOriginId(raw) ?? -1) ?? '').stamp);
      }
      return [b, leaves];
    }));
  }

  async fetchChanges(keys: readonly string[]): Promise<Change[]> {
    const records = await this.fetchRecords(keys);
    const changes: Change[] = [];
    for (const r of records) if (r) changes.push(r);
    return changes;
  }

  async recordSizes(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.strlen(this.keys.record(key));
    return (await this.exec(pipeline)).map((n) => Number(n));
  }

  /**
   * Records (live or tombstone) as changes, in the order of `keys`; null where absent. A record is
   * its leaf (stamp and metadata), its origin's name and, when live, its content: all read in one
   * read-only script (commands/fetch-records.lua), so a write between the reads cannot pair one
   * version's content with another's stamp.
   */
  protected async fetchRecords(keys: readonly string[]): Promise<(Change | null)[]> {
    if (keys.length === 0) return [];
    const reply = await this.call(() => runFetchRecords(this.redis, this.keys.prefix, keys));
    if (!Array.isArray(reply) || reply.length !== 3 * keys.length) {
      throw new ReplicationError('read_failed', `records of ${keys.length} keys under ${this.keys.prefix}: unexpected reply`);
    }
    return keys.map((key, i) => {
      const [leaf, origin, value] = reply.slice(3 * i, 3 * i + 3) as (Buffer | null)[];
      if (!leaf) return null;
      return leafToChange(key, parseLeaf(leaf, key, origin?.toString('utf8') ?? ''), value ?? null);
    });
  }

  /** One reply per queued command, in order; a failed command or an aborted MULTI throws. */
  protected async exec(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
    if (pipeline.length === 0) return [];
    const replies = await this.call(() => pipeline.exec());
    if (replies === null) throw new ReplicationError('read_failed', `a read of ${this.keys.prefix}* was aborted by Redis`);
    return replies.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
  }
}

/**
 * A store script's refusal (`error('bad_leaf: …')`, `origin_table_full: …` in its reply) as a typed
 * error with that code and the script's words; null for any other error.
 */
export function scriptRefusal(err: unknown): ReplicationError | null {
  if (!(err instanceof Error)) return null;
  const m = /\b(bad_leaf|bad_tree|origin_table_full): (.*?)(?: script: \w+, on @user_script.*)?$/s.exec(err.message);
  return m ? new ReplicationError(m[1]!, m[2]!, { cause: err }) : null;
}

/** The origin table's entries a read returned: 3-byte id and node id, alternating. */
function originNames(flat: readonly Buffer[]): Map<number, string> {
  const names = new Map<number, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const id = leafOriginId(flat[i]!);
    if (id !== null) names.set(id, flat[i + 1]!.toString('utf8'));
  }
  return names;
}

function isZero(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

/** A stored branch or bucket digest (20 bytes) as hex, the form the cold path compares. */
function digestHex(raw: Buffer, node: string): string {
  if (raw.length !== DIGEST_BYTES) {
    throw new ReplicationError('bad_tree', `${node}'s digest is ${raw.length} bytes, not ${DIGEST_BYTES}: not store format v3 or v4`);
  }
  return raw.toString('hex');
}

export function changeToRecord(change: Change & { op: 'PUT' }): StoredRecord {
  const { key, content, hash, contentType, version, updatedAt, hlc, origin, traceParent } = change;
  return { key, content, hash, contentType, version, updatedAt, hlc, origin, ...(traceParent ? { traceParent } : {}) };
}
