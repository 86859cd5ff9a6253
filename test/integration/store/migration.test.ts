/**
 * Tree format v2 → v3 → v4 (docs/wire-format.md): RedisStore.connect converts a v2 store in place,
 * branch by branch, resuming an interrupted migration (v3 → v4: migration-v3.test.ts). The v2 layout is written here the way v2's
 * scripts wrote it (9-field record hashes, bare leaf stamps, hex bucket digests in one hash).
 */
import { describe, expect, it } from 'vitest';
import { useRedis, useRedisClient } from '../../support/use-redis.js';
import { allLeaves, uniquePrefix } from '../../support/store-fixtures.js';
import { delChange, putChange } from '../../support/changes.js';
import { RedisStore } from '../../../src/store/redis-store.js';
import { META_FIELDS, StoreKeys } from '../../../src/store/keys.js';
import type { Change } from '../../../src/model/change.js';
import { runMigrateV2Step } from '../../../src/store/commands/calls.js';
import {
  TREE_FORMAT, TREE_FORMAT_V2, TREE_FORMAT_V3, ZERO_DIGEST, bucketOf, branchOfBucket, leafDigest, rootOf, xorDigests,
} from '../../../src/merkle/tree-shape.js';

const redis = useRedis();
const raw = useRedisClient(redis);

/** One final change per key, as a v2 store holds it. */
function changes(): Change[] {
  const out: Change[] = [];
  for (let i = 0; i < 400; i++) {
    const key = `patient/${i}`;
    if (i % 7 === 3) out.push(delChange(key, 1_700_000_000_000 + i, 'berlin'));
    else {
      out.push(putChange(key, JSON.stringify({ i, name: `p${i}` }), 1_700_000_000_000 + i, i % 2 ? 'london' : 'paris', {
        contentType: i % 3 ? 'json' : 'binary', version: 1 + (i % 4),
        ...(i % 5 === 0 ? { traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } : {}),
      }));
    }
  }
  return out;
}

async function writeV2(prefix: string, all: Change[]): Promise<void> {
  const keys = new StoreKeys(prefix);
  const buckets = new Map<string, string>();
  const branches = new Map<string, string>();
  const p = raw().pipeline();
  for (const c of all) {
    const del = c.op === 'DEL';
    const hash = del ? '' : c.hash;
    const digest = leafDigest(c.key, { hlc: c.hlc, origin: c.origin, hash, deleted: del });
    const bucket = bucketOf(c.key);
    buckets.set(bucket, xorDigests(buckets.get(bucket) ?? ZERO_DIGEST, digest));
    branches.set(branchOfBucket(bucket), xorDigests(branches.get(branchOfBucket(bucket)) ?? ZERO_DIGEST, digest));
    p.hset(keys.record(c.key), {
      c: del ? '' : c.content, h: hash, t: del ? '' : c.contentType, v: del ? 3 : c.version, u: c.updatedAt,
      s: c.hlc, o: c.origin, p: del ? '' : (c.traceParent ?? ''), d: del ? '1' : '0',
    });
    p.hset(keys.leaves(bucket), c.key, `${c.hlc} ${del ? '1' : '0'} ${hash} ${c.origin}`);
    if (del) p.zadd(keys.tombstones, Number(c.hlc.slice(0, 16)), c.key);
    else p.zadd(keys.v3LiveKeys, 0, c.key);
  }
  p.hset(keys.v2Buckets, Object.fromEntries(buckets));
  p.hset(keys.branches, Object.fromEntries(branches));
  p.hset(keys.meta, { format: TREE_FORMAT_V2, root: [...branches.values()].reduce(xorDigests, ZERO_DIGEST), hlc: all.map((c) => c.hlc).sort().at(-1)! });
  await p.exec();
}

/** A store of this version with the same changes applied, for comparison. */
async function referenceStore(all: Change[]): Promise<RedisStore> {
  const store = await RedisStore.connect({ url: redis().url, prefix: uniquePrefix('ref'), nodeId: 'ref' });
  await store.applyChanges(all);
  return store;
}

/** Opens the store at `prefix` (which migrates it) and checks it against a new store of the same changes. */
async function expectMigratedOnConnect(prefix: string, all: Change[]): Promise<void> {
  const store = await RedisStore.connect({ url: redis().url, prefix, nodeId: 'london' });
  const ref = await referenceStore(all);
  try {
    expect(await store.treeFormat()).toBe(TREE_FORMAT);
    const leaves = await allLeaves(store);
    expect(leaves.size).toBe(all.length);
    expect(await store.merkleRoot()).toBe(rootOf(leaves));
    expect(await store.merkleRoot()).toBe(await ref.merkleRoot());
    const branches = await store.branchDigests();
    expect(branches).toEqual(await ref.branchDigests());
    expect(await store.bucketDigests([...branches.keys()])).toEqual(await ref.bucketDigests([...branches.keys()]));
    for (const c of all) {
      const record = await store.get(c.key);
      if (c.op === 'DEL') {
        expect(record).toBeNull();
        expect(await raw().exists(store.keys.record(c.key))).toBe(0);
      } else {
        const { op: _op, wireData: _w, ...expected } = c;
        expect(record).toEqual(expected);
      }
    }
    expect(await raw().exists(store.keys.v2Buckets)).toBe(0);
    expect(await raw().hget(store.keys.meta, META_FIELDS.migration)).toBeNull();
    expect(await store.keyCount()).toBe(all.filter((c) => c.op === 'PUT').length);
    // A tombstone's version survives the migration: the next PUT counts on from it.
    const deleted = all.find((c) => c.op === 'DEL')!;
    expect((await store.put(deleted.key, Buffer.from('again'))).version).toBe(4);
  } finally {
    await Promise.all([store.close(), ref.close()]);
  }
}

describe('tree format v2 → v3 (→ v4) migration', () => {
  it('converts a v2 store in place on connect: same digests, same records, v2 keys gone', async () => {
    const prefix = uniquePrefix('v2');
    const all = changes();
    await writeV2(prefix, all);
    await expectMigratedOnConnect(prefix, all);
  });

  it('resumes an interrupted migration where it stopped, converting no branch twice', async () => {
    const prefix = uniquePrefix('v2');
    const all = changes();
    await writeV2(prefix, all);
    // A first engine converted 100 branches, then died.
    for (let b = 0; b < 100; b++) expect(await runMigrateV2Step(raw(), { prefix, v2Marker: TREE_FORMAT_V2, v3Marker: TREE_FORMAT_V3, branch: b })).toBe(b + 1);
    expect(await raw().hget(new StoreKeys(prefix).meta, META_FIELDS.migration)).toBe('100');
    // Out of turn: refused, nothing changed.
    expect(await runMigrateV2Step(raw(), { prefix, v2Marker: TREE_FORMAT_V2, v3Marker: TREE_FORMAT_V3, branch: 5 })).toBe(-1);
    await expectMigratedOnConnect(prefix, all);
  });

  it('still refuses any other format, changing nothing', async () => {
    const prefix = uniquePrefix('v9');
    const { meta } = new StoreKeys(prefix);
    await raw().hset(meta, 'format', 'tictac/v9;sha256-xor;branches=16;buckets=16');
    await expect(RedisStore.connect({ url: redis().url, prefix, nodeId: 'london' })).rejects.toMatchObject({ code: 'tree_format_mismatch' });
    expect(await raw().hgetall(meta)).toEqual({ format: 'tictac/v9;sha256-xor;branches=16;buckets=16' });
  });
});
