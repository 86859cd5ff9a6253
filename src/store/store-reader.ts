/**
 * Reads a store's tree and records through any Redis connection: the node's own, or a
 * peer's (read-only; the cold path drills down and fetches with it). Every multi-key read
 * is one pipeline: one round trip per drill-down level.
 */
import type { Redis } from 'ioredis';
import { ReplicationError } from '../errors.js';
import type { Change, ContentType } from '../model/change.js';
import { isHlc } from '../model/hlc.js';
import { StoreKeys, META_FIELDS, RECORD_FIELDS as F } from './keys.js';
import type { LeafStamp, StoreReader, StoredRecord } from './sync-engine.js';
import { DIGEST_BYTES, ZERO_DIGEST, bucketsOfBranch } from '../merkle/tree-shape.js';
import { BUCKET_DIGEST_FIELD } from './keys.js';

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

  async merkleRoot(): Promise<string> {
    return (await this.call(() => this.redis.hget(this.keys.meta, META_FIELDS.root))) ?? ZERO_DIGEST;
  }

  async branchDigests(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.call(() => this.redis.hgetall(this.keys.branches))));
  }

  async bucketDigests(branches: readonly string[]): Promise<Map<string, Map<string, string>>> {
    // A bucket's digest lives in its leaves hash: one HGET per bucket, all in one pipeline.
    const pipeline = this.redis.pipeline();
    const names = branches.map((b) => bucketsOfBranch(b));
    for (const bucket of names.flat()) pipeline.hgetBuffer(this.keys.leaves(bucket), BUCKET_DIGEST_FIELD);
    const replies = await this.exec(pipeline);
    let at = 0;
    return new Map(branches.map((b, i) => {
      const digests = new Map<string, string>();
      for (const bucket of names[i]!) {
        const d = replies[at++] as Buffer | null;
        if (d !== null) digests.set(bucket, digestHex(d, bucket));
      }
      return [b, digests];
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
          if (key !== BUCKET_DIGEST_FIELD) leaves.set(key, parseLeaf(raw, key));
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

  /** Raw records (live or tombstone) as changes, in the order of `keys`; null where absent. */
  protected async fetchRecords(keys: readonly string[]): Promise<(Change | null)[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hgetallBuffer(this.keys.record(key));
    const replies = (await this.call(() => pipeline.exec())) ?? [];
    return keys.map((key, i) => {
      const [err, value] = replies[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      return recordToChange(key, value as RawHash);
    });
  }

  private async exec(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
    if (pipeline.length === 0) return [];
    const replies = (await this.call(() => pipeline.exec())) ?? [];
    return replies.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
  }
}

/**
 * A stored leaf: its digest (20 bytes), then "<hlc> <0|1> <hash> <origin>" (docs/wire-format.md).
 * A value that does not have that shape is reported, not guessed at: a peer's store is input.
 */
export function parseLeaf(raw: Buffer, key: string): LeafStamp {
  const stamp = raw.toString('latin1', DIGEST_BYTES);
  const sp = stamp.indexOf(' ', 25);
  const hlc = stamp.slice(0, 22);
  const deleted = stamp[23];
  if (sp < 0 || stamp[22] !== ' ' || stamp[24] !== ' ' || (deleted !== '0' && deleted !== '1') || !isHlc(hlc)) {
    throw new ReplicationError('bad_leaf', `leaf of key ${JSON.stringify(key)} is not in tree format v3`);
  }
  return { hlc, deleted: deleted === '1', hash: stamp.slice(25, sp), origin: stamp.slice(sp + 1) };
}

function digestHex(raw: Buffer, bucket: string): string {
  if (raw.length !== DIGEST_BYTES) {
    throw new ReplicationError('bad_leaf', `bucket ${bucket}'s digest is ${raw.length} bytes, not ${DIGEST_BYTES}`);
  }
  return raw.toString('hex');
}

/** A record hash as a change; null for an absent or unreadable record. */
export function recordToChange(key: string, h: RawHash): Change | null {
  const hlc = h[F.hlc]?.toString();
  const origin = h[F.origin]?.toString();
  if (hlc === undefined || origin === undefined || !isHlc(hlc)) return null;
  const updatedAt = Number(h[F.updatedAt]?.toString() ?? '0');
  const traceParent = h[F.traceParent]?.toString() || undefined;
  if (h[F.deleted]?.toString() === '1') {
    return { op: 'DEL', key, hlc, origin, updatedAt };
  }
  return {
    op: 'PUT',
    key,
    hlc,
    origin,
    updatedAt,
    content: h[F.content] ?? Buffer.alloc(0),
    hash: h[F.hash]?.toString() ?? '',
    contentType: (h[F.contentType]?.toString() ?? 'binary') as ContentType,
    version: Number(h[F.version]?.toString() ?? '0'),
    ...(traceParent ? { traceParent } : {}),
  };
}

export function changeToRecord(change: Change & { op: 'PUT' }): StoredRecord {
  const { key, content, hash, contentType, version, updatedAt, hlc, origin, traceParent } = change;
  return { key, content, hash, contentType, version, updatedAt, hlc, origin, ...(traceParent ? { traceParent } : {}) };
}
