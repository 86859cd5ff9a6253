/** Helpers to build stores and changes in tests. */
import { randomBytes } from 'node:crypto';
import { RedisStore, type RedisStoreOptions } from '../../src/store/redis-store.js';
import type { Change, PutChange, DelChange } from '../../src/model/change.js';
import { sha256Hex } from '../../src/model/content-hash.js';
import { formatHlc } from '../../src/model/hlc.js';

/** A fresh, unique prefix so tests sharing a redis-server never see each other's keys. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${randomBytes(4).toString('hex')}:`;
}

export function openStore(url: string, options: Partial<RedisStoreOptions> & { nodeId: string }): Promise<RedisStore> {
  return RedisStore.connect({ url, prefix: uniquePrefix(options.nodeId), ...options });
}

export function putChange(key: string, content: string | Buffer, hlcMs: number, origin: string, extra: Partial<PutChange> = {}): PutChange {
  const buf = typeof content === 'string' ? Buffer.from(content) : content;
  return {
    op: 'PUT', key, content: buf, hash: sha256Hex(buf), contentType: 'binary', version: 1, updatedAt: hlcMs,
    hlc: typeof extra.hlc === 'string' ? extra.hlc : formatHlc(hlcMs, 0), origin, ...extra,
  };
}

export function delChange(key: string, hlcMs: number, origin: string, logical = 0): DelChange {
  return { op: 'DEL', key, hlc: formatHlc(hlcMs, logical), origin, updatedAt: hlcMs };
}

/** Every record (live and tombstone) of a store, via its tree leaves: key → leaf. */
export async function allLeaves(store: RedisStore): Promise<Map<string, { hlc: string; origin: string; hash: string; deleted: boolean }>> {
  const out = new Map<string, { hlc: string; origin: string; hash: string; deleted: boolean }>();
  const branches = [...(await store.branchDigests()).keys()];
  const buckets = await store.bucketDigests(branches);
  const bucketIds = [...buckets.values()].flatMap((m) => [...m.keys()]);
  for (const leaves of (await store.bucketLeaves(bucketIds)).values()) for (const [k, v] of leaves) out.set(k, v);
  return out;
}

export type { Change };
