/**
 * Reads a store's tree and records through any Redis connection: the node's own, or a
 * peer's (read-only; the cold path drills down and fetches with it). Every multi-key read
 * is one round trip (a pipeline, a MULTI or one read-only script) per drill-down level.
 */
import type { Redis } from 'ioredis';
import { ReplicationError } from '../errors.js';
import type { Change } from '../model/change.js';
import { BUCKET_DIGEST_FIELD, StoreKeys, META_FIELDS } from './keys.js';
import { leafToChange, parseLeaf } from './leaf.js';
import type { LeafStamp, StoreReader, StoredRecord } from './local-store.js';
import { DIGEST_BYTES, ZERO_DIGEST, bucketOf, bucketsOfBranch } from '../merkle/tree-shape.js';
import { runBucketDigests } from './commands/calls.js';

type RawHash = Record<string, Buffer>;

export class RedisStoreReader implements StoreReader {
  protected readonly redis: Redis;
  readonly keys: StoreKeys;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.keys = new StoreKeys(prefix);
  }

  /** Every Redis call goes through here, so a subclass that can be closed can settle the calls it strands. */
  protected call<T>(command: () => Promise<T>): Promise<T> {
    return command();
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
    const pipeline = this.redis.pipeline();
    for (const b of buckets) pipeline.hgetallBuffer(this.keys.leaves(b));
    const replies = await this.exec(pipeline);
    return new Map(
      buckets.map((b, i) => {
        const leaves = new Map<string, LeafStamp>();
        for (const [key, raw] of Object.entries(replies[i] as RawHash)) {
          if (key !== BUCKET_DIGEST_FIELD) leaves.set(key, parseLeaf(raw, key).stamp);
        }
        return [b, leaves];
      }),
    );
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
   * its leaf (stamp and metadata) plus, when live, its content key: both read in one MULTI, so a
   * write between the two reads cannot pair one version's content with another's stamp.
   */
  protected async fetchRecords(keys: readonly string[]): Promise<(Change | null)[]> {
    if (keys.length === 0) return [];
    const tx = this.redis.multi();
    for (const key of keys) tx.hgetBuffer(this.keys.leaves(bucketOf(key)), key).getBuffer(this.keys.record(key));
    const replies = await this.exec(tx);
    return keys.map((key, i) => {
      const leaf = replies[2 * i] as Buffer | null;
      return leaf === null ? null : leafToChange(key, parseLeaf(leaf, key), replies[2 * i + 1] as Buffer | null);
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

function isZero(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0) return false;
  return true;
}

/** A stored branch or bucket digest (20 bytes) as hex, the form the cold path compares. */
function digestHex(raw: Buffer, node: string): string {
  if (raw.length !== DIGEST_BYTES) {
    throw new ReplicationError('bad_tree', `${node}'s digest is ${raw.length} bytes, not ${DIGEST_BYTES}: not tree format v3`);
  }
  return raw.toString('hex');
}

export function changeToRecord(change: Change & { op: 'PUT' }): StoredRecord {
  const { key, content, hash, contentType, version, updatedAt, hlc, origin, traceParent } = change;
  return { key, content, hash, contentType, version, updatedAt, hlc, origin, ...(traceParent ? { traceParent } : {}) };
}
