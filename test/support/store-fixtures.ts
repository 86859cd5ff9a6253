/** Helpers to build stores and changes in tests. */
import { randomBytes } from 'node:crypto';
import { RedisStore, type RedisStoreOptions } from '../../src/store/redis-store.js';
import type { Change } from '../../src/model/change.js';

/** A fresh, unique prefix so tests sharing a redis-server never see each other's keys. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${randomBytes(4).toString('hex')}:`;
}

export function openStore(url: string, options: Partial<RedisStoreOptions> & { nodeId: string }): Promise<RedisStore> {
  return RedisStore.connect({ url, prefix: uniquePrefix(options.nodeId), ...options });
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
