// A store in format v3 (the layout before v4: docs/wire-format.md), written the way v3's scripts
// wrote it: text leaves after their digest, the live keys in one sorted set m:keys. For the
// migration test and its benchmark (bench/migrate-v3.ts).
import type { Redis } from 'ioredis';
import { TREE_FORMAT_V3, ZERO_DIGEST, bucketOf, branchOfBucket, leafDigest, xorDigests } from '../../src/merkle/tree-shape.js';
import type { Change } from '../../src/model/change.js';
import { StoreKeys } from '../../src/store/keys.js';

/** A v3 leaf: the leaf digest's 20 bytes, then the text fields. */
function v3Leaf(c: Change): Buffer {
  const del = c.op === 'DEL';
  const hash = del ? '' : c.hash;
  const digest = Buffer.from(leafDigest(c.key, { hlc: c.hlc, origin: c.origin, hash, deleted: del }), 'hex');
  const text = del ? `${c.hlc} 1  ${c.origin}  3 ${c.updatedAt} `
    : `${c.hlc} 0 ${hash} ${c.origin} ${c.contentType} ${c.version} ${c.updatedAt} ${c.traceParent ?? ''}`;
  return Buffer.concat([digest, Buffer.from(text, 'latin1')]);
}

/** Writes `all` (one final change per key) under `prefix` as a v3 store would hold them. */
export async function writeV3Store(redis: Redis, prefix: string, all: readonly Change[]): Promise<void> {
  const keys = new StoreKeys(prefix);
  const buckets = new Map<string, string>();
  const branches = new Map<string, string>();
  let p = redis.pipeline();
  for (const c of all) {
    const del = c.op === 'DEL';
    const digest = leafDigest(c.key, { hlc: c.hlc, origin: c.origin, hash: del ? '' : c.hash, deleted: del });
    const bucket = bucketOf(c.key);
    buckets.set(bucket, xorDigests(buckets.get(bucket) ?? ZERO_DIGEST, digest));
    branches.set(branchOfBucket(bucket), xorDigests(branches.get(branchOfBucket(bucket)) ?? ZERO_DIGEST, digest));
    p.hset(keys.leaves(bucket), c.key, v3Leaf(c));
    if (del) p.zadd(keys.tombstones, Number(c.hlc.slice(0, 16)), c.key);
    else {
      p.set(keys.record(c.key), c.content);
      p.zadd(keys.v3LiveKeys, 0, c.key);
    }
    if (p.length >= 10_000) {
      await p.exec();
      p = redis.pipeline();
    }
  }
  for (const [bucket, d] of buckets) p.hset(keys.leaves(bucket), '', Buffer.from(d, 'hex'));
  for (const [branch, d] of branches) p.hset(keys.branches, branch, Buffer.from(d, 'hex'));
  p.hset(keys.meta, { format: TREE_FORMAT_V3, root: [...branches.values()].reduce(xorDigests, ZERO_DIGEST), hlc: '0001700000001000-00000' });
  await p.exec();
}

