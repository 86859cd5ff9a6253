/**
 * Reads a store's tree and records through any Redis connection: the node's own, or a
 * peer's (read-only; the cold path drills down and fetches with it). Every multi-key read
 * is one pipeline: one round trip per drill-down level.
 */
import type { Redis } from 'ioredis';
import type { Change, ContentType } from '../model/change.js';
import { isHlc } from '../model/hlc.js';
import { StoreKeys, META_FIELDS, RECORD_FIELDS as F } from './keys.js';
import type { LeafStamp, StoreReader, StoredRecord } from './sync-engine.js';
import { ZERO_DIGEST, bucketsOfBranch } from '../merkle/tree-shape.js';

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
    // All buckets live in one hash; a branch's are the 256 fields named after it.
    const names = branches.map((b) => bucketsOfBranch(b));
    const replies = await this.pipelined(names.map((fields) => ['hmget', this.keys.buckets, ...fields]));
    return new Map(branches.map((b, i) => {
      const digests = new Map<string, string>();
      (replies[i] as (string | null)[]).forEach((d, j) => {
        if (d !== null) digests.set(names[i]![j]!, d);
      });
      return [b, digests];
    }));
  }

  async bucketLeaves(buckets: readonly string[]): Promise<Map<string, Map<string, LeafStamp>>> {
    const replies = await this.pipelined(buckets.map((b) => ['hgetall', this.keys.leaves(b)]));
    return new Map(
      buckets.map((b, i) => {
        const leaves = new Map<string, LeafStamp>();
        for (const [key, raw] of Object.entries(replies[i] as Record<string, string>)) leaves.set(key, parseLeaf(raw));
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

  private async pipelined(commands: [string, ...string[]][]): Promise<unknown[]> {
    if (commands.length === 0) return [];
    const replies = (await this.call(() => this.redis.pipeline(commands).exec())) ?? [];
    return replies.map(([err, value]) => {
      if (err) throw err;
      return value;
    });
  }
}

export function parseLeaf(raw: string): LeafStamp {
  const hlc = raw.slice(0, 22);
  const deleted = raw[23] === '1';
  const rest = raw.slice(25);
  const sp = rest.indexOf(' ');
  return { hlc, deleted, hash: rest.slice(0, sp), origin: rest.slice(sp + 1) };
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
