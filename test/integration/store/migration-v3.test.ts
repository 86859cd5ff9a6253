/**
 * Store format v3 → v4 (docs/wire-format.md): RedisStore.connect converts a v3 store in place,
 * branch by branch, resuming an interrupted migration, and refuses, changing nothing, a store it
 * cannot convert. The v3 layout is written here the way v3's scripts wrote it (text leaves after
 * their digest, the live keys in one sorted set m:keys).
 */
import { describe, expect, it } from 'vitest';
import { useRedis, useRedisClient } from '../../support/use-redis.js';
import { allLeaves, uniquePrefix } from '../../support/store-fixtures.js';
import { delChange, putChange } from '../../support/changes.js';
import { RedisStore } from '../../../src/store/redis-store.js';
import { META_FIELDS, StoreKeys } from '../../../src/store/keys.js';
import type { Change } from '../../../src/model/change.js';
import { runMigrateV3Step } from '../../../src/store/commands/calls.js';
import { TREE_FORMAT, TREE_FORMAT_V3, bucketOf, rootOf } from '../../../src/merkle/tree-shape.js';
import { writeV3Store } from '../../support/v3-store.js';

const redis = useRedis();
const raw = useRedisClient(redis);
const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
/** A stamp an older version let in, far beyond year 9999: it must survive as it is. */
const BEYOND = '9999999999999999-00007';

function changes(): Change[] {
  const out: Change[] = [];
  for (let i = 0; i < 600; i++) {
    const key = i % 11 === 0 ? `é/患者/${i}` : `patient/${i}`;
    const origin = ['london', 'paris', 'berlin'][i % 3]!;
    if (i % 7 === 3) out.push(delChange(key, 1_700_000_000_000 + i, origin));
    else {
      out.push(putChange(key, JSON.stringify({ i }), 1_700_000_000_000 + i, origin, {
        contentType: i % 3 ? 'json' : 'binary', version: i === 1 ? Number.MAX_SAFE_INTEGER : 1 + (i % 4),
        ...(i % 5 === 0 ? { traceParent: TRACE } : {}),
      }));
    }
  }
  out.push({ ...putChange('ahead', 'x', 0, 'london'), hlc: BEYOND });
  return out;
}

async function expectMigrated(prefix: string, all: Change[]): Promise<void> {
  const store = await RedisStore.connect({ url: redis().url, prefix, nodeId: 'london' });
  try {
    expect(await store.treeFormat()).toBe(TREE_FORMAT);
    const leaves = await allLeaves(store);
    expect(leaves.size).toBe(all.length);
    const expectedRoot = rootOf(all.map((c) => [c.key, { hlc: c.hlc, origin: c.origin, hash: c.op === 'PUT' ? c.hash : '', deleted: c.op === 'DEL' }]));
    expect(rootOf(leaves)).toBe(expectedRoot);
    expect(await store.merkleRoot()).toBe(expectedRoot);
    for (const c of all) {
      const record = await store.get(c.key);
      if (c.op === 'DEL') expect(record).toBeNull();
      else {
        const { op: _op, wireData: _w, ...expected } = c;
        expect(record).toEqual(expected);
      }
    }
    const live = all.filter((c) => c.op === 'PUT').map((c) => c.key).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(await store.keyCount()).toBe(live.length);
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.scan({ cursor, limit: 97 });
      listed.push(...page.items.map((r) => r.key));
      cursor = page.cursor;
    } while (cursor);
    expect(listed).toEqual(live);
    expect(await raw().exists(store.keys.v3LiveKeys)).toBe(0);
    expect(await raw().hget(store.keys.meta, META_FIELDS.migrationV4)).toBeNull();
    // A tombstone's version survives the migration: the next PUT counts on from it.
    const deleted = all.find((c) => c.op === 'DEL')!;
    expect((await store.put(deleted.key, Buffer.from('again'))).version).toBe(4);
  } finally {
    await store.close();
  }
}

describe('store format v3 → v4 migration', () => {
  it('converts a v3 store in place on connect: same digests, same records and stamps, every live key listed', async () => {
    const prefix = uniquePrefix('v3');
    const all = changes();
    await writeV3Store(raw(), prefix, all);
    await expectMigrated(prefix, all);
  });

  it('resumes an interrupted migration where it stopped, converting no branch twice', async () => {
    const prefix = uniquePrefix('v3');
    const all = changes();
    await writeV3Store(raw(), prefix, all);
    const step = (branch: number) => runMigrateV3Step(raw(), { prefix, v3Marker: TREE_FORMAT_V3, v4Marker: TREE_FORMAT, branch });
    for (let b = 0; b < 130; b++) expect(await step(b)).toBe(b + 1);
    expect(await raw().hget(new StoreKeys(prefix).meta, META_FIELDS.migrationV4)).toBe('130');
    expect(await step(5)).toBe(-1); // out of turn: refused, nothing changed
    await expectMigrated(prefix, all);
  });

  it('refuses a leaf that is not in v3\'s format, naming it, and leaves the store as it was', async () => {
    const prefix = uniquePrefix('v3');
    const all = changes();
    await writeV3Store(raw(), prefix, all);
    const keys = new StoreKeys(prefix);
    const victim = all[10]!;
    await raw().hset(keys.leaves(bucketOf(victim.key)), victim.key, 'not a leaf');
    const branch = parseInt(bucketOf(victim.key).slice(0, 2), 16);
    const leavesBefore = await raw().hgetallBuffer(keys.leaves(bucketOf(victim.key)));
    await expect(RedisStore.connect({ url: redis().url, prefix, nodeId: 'london' })).rejects.toMatchObject({
      code: 'migration_refused', message: expect.stringContaining(victim.key),
    });
    expect(await raw().hget(keys.meta, 'format')).toBe(TREE_FORMAT_V3);
    expect(await raw().hget(keys.meta, META_FIELDS.migrationV4)).toBe(branch === 0 ? null : String(branch));
    expect(await raw().hgetallBuffer(keys.leaves(bucketOf(victim.key)))).toEqual(leavesBefore);
  });
});
