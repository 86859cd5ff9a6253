/**
 * Typed wrappers of the store's scripts: what each takes and answers, by name, so that no call site
 * builds a positional argument array. write.lua's, with its packing, is in write.ts; apply.lua's
 * packing in apply-args.ts.
 */
import type { Redis } from 'ioredis';
import type { Change } from '../../model/change.js';
import { applyArgs } from './apply-args.js';
import { scripts } from './index.js';

export interface ApplyContext {
  readonly prefix: string;
  /** Re-emit each applied change on this node's stream (store.emit_replicated). */
  readonly emit: boolean;
  readonly cdcMaxlen: number;
  readonly nowMs: number;
  /** A change stamped further ahead of nowMs is refused (outcome 3): store.max_future_skew. */
  readonly maxAheadMs: number;
}

/**
 * apply.lua: one outcome code per change (1 applied, 0 stale, 2 duplicate, 3 too far ahead). Not an
 * async function: once packed, the changes (and their contents) are not held while Redis answers.
 */
export function runApply(redis: Redis, context: ApplyContext, changes: readonly Change[]): Promise<number[]> {
  const count = changes.length;
  const args = applyArgs(context.prefix, changes, context.emit, context.cdcMaxlen, context.nowMs, context.maxAheadMs);
  return scripts.apply.run(redis, args).then((reply) => {
    if (!Array.isArray(reply) || reply.length !== count) throw new Error(`apply.lua answered ${JSON.stringify(reply)} for ${count} changes`);
    return reply.map(Number);
  });
}

/** gc.lua: drops up to `limit` tombstones stamped at or before `cutoffMs`; how many it dropped. */
export async function runGc(redis: Redis, args: { prefix: string; cutoffMs: number; limit: number }): Promise<number> {
  return Number(await scripts.gc.run(redis, [args.prefix, args.cutoffMs, args.limit]));
}

/** raise-clock.lua: raises the store's clock to at least `hlc`; true when it was lower. */
export async function runRaiseClock(redis: Redis, prefix: string, hlc: string): Promise<boolean> {
  return Number(await scripts.raiseClock.run(redis, [prefix, hlc])) === 1;
}

/** bucket-digests.lua (read-only): per branch, its 256 bucket digests as one 5,120-byte string. */
export async function runBucketDigests(redis: Redis, prefix: string, branches: readonly string[]): Promise<unknown> {
  return scripts.bucketDigests.runBuffer(redis, [prefix, ...branches]);
}

/** migrate-v2.lua: converts one branch of a v2 store; the next branch index, 256 when done, -1 when not a v2 store at `branch`. */
export async function runMigrateV2Step(redis: Redis, args: { prefix: string; v2Marker: string; v3Marker: string; branch: number }): Promise<number> {
  return Number(await scripts.migrateV2.run(redis, [args.prefix, args.v2Marker, args.v3Marker, args.branch]));
}

/** migrate-v3.lua: converts one branch of a v3 store; the next branch index, 256 when done, -1 when not a v3 store at `branch`. */
export async function runMigrateV3Step(redis: Redis, args: { prefix: string; v3Marker: string; v4Marker: string; branch: number }): Promise<number> {
  return Number(await scripts.migrateV3.run(redis, [args.prefix, args.v3Marker, args.v4Marker, args.branch]));
}

/** bucket-leaves.lua (read-only): per bucket its keys and stored leaves, alternating; then the origin ids they name and their node ids. */
export async function runBucketLeaves(redis: Redis, prefix: string, buckets: readonly string[]): Promise<unknown> {
  return scripts.bucketLeaves.runBuffer(redis, [prefix, ...buckets]);
}

/** fetch-records.lua (read-only): per key its stored leaf, its origin's node id and its stored value (null when absent). */
export async function runFetchRecords(redis: Redis, prefix: string, keys: readonly string[]): Promise<unknown> {
  return scripts.fetchRecords.runBuffer(redis, [prefix, ...keys]);
}

/** scan.lua (read-only): up to `limit` live keys in [min, max) in byte order (ZRANGE BYLEX bounds; endKey is max without its bracket). */
export async function runScan(redis: Redis, args: { prefix: string; min: Buffer; max: Buffer; endKey: Buffer; limit: number }): Promise<Buffer[]> {
  const reply = await scripts.scan.runBuffer(redis, [args.prefix, args.min, args.max, args.endKey, args.limit]);
  if (!Array.isArray(reply)) throw new Error(`scan.lua answered ${typeof reply}, not a list of keys`);
  return reply as Buffer[];
}
