/**
 * The store's layout marker and data identity in its meta hash (docs/architecture.md): the tree
 * format written on a new store and checked on an old one (migrating v2 in place), restored when
 * the data went away underneath, and the incarnation/epoch/clock read by the local data check.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ReplicationError } from '../errors.js';
import { TREE_FORMAT, TREE_FORMAT_V2, TREE_FORMAT_V3 } from '../merkle/tree-shape.js';
import type { Logger } from '../observability/logger.js';
import { runMigrateV2Step, runMigrateV3Step } from './commands/calls.js';
import { META_FIELDS, type StoreKeys } from './keys.js';
import type { StoreDataState } from './local-store.js';

/** What the format functions need of a store: its client, keys and bounded calls. */
export interface FormatContext {
  readonly redis: Redis;
  readonly keys: StoreKeys;
  readonly nodeId: string;
  call<T>(command: () => Promise<T>): Promise<T>;
  exec(transaction: ReturnType<Redis['multi']>): Promise<unknown[]>;
  treeFormat(): Promise<string | null>;
}

/** Writes the format marker on a new store, migrates a v2 or v3 one, refuses any other; then claims the store. */
export async function initFormat(store: FormatContext, logger: Logger): Promise<void> {
  await store.call(() => store.redis.hsetnx(store.keys.meta, META_FIELDS.format, TREE_FORMAT));
  let format = await store.treeFormat();
  if (format === TREE_FORMAT_V2) {
    await migrateFromV2(store, logger);
    format = await store.treeFormat();
  }
  if (format === TREE_FORMAT_V3) {
    await migrateFromV3(store, logger);
    format = await store.treeFormat();
  }
  if (format !== TREE_FORMAT) {
    throw new ReplicationError(
      'tree_format_mismatch',
      `the store under prefix "${store.keys.prefix}" has tree format "${format}", this engine writes "${TREE_FORMAT}"`,
    );
  }
  // Only a store in this engine's format is claimed (a refused one is left unchanged).
  await store.call(() => store.redis.hset(store.keys.meta, META_FIELDS.owner, store.nodeId));
}

/** One in-place conversion: a script per branch, its progress kept in a meta field so that a restart resumes. */
interface Migration {
  readonly from: string;
  readonly to: string;
  readonly progressField: string;
  /** For the log: what changes ('tree layout') and the version it goes to ('v3'). */
  readonly what: string;
  readonly version: string;
  /** Converts `branch`; the next branch index, 256 when done, -1 when the store is no longer in `from`. */
  step(branch: number): Promise<number>;
}

/**
 * Runs a migration from where an interrupted one stopped, one branch (~1/256 of the store) per
 * atomic script. Digests do not change. A step the store refuses (a leaf not in the old format, a
 * full origin table) stops it with `migration_refused`, the store left as it was at that step.
 * Another engine must not write to the store meanwhile (docs/operations.md: upgrading).
 */
async function migrate(store: FormatContext, logger: Logger, m: Migration): Promise<void> {
  const { redis, keys } = store;
  let branch = Number((await store.call(() => redis.hget(keys.meta, m.progressField))) ?? '0');
  logger.warn({ prefix: keys.prefix, from: m.from, to: m.to, branch }, `store: migrating the ${m.what} to ${m.version}`);
  while (branch < 256) {
    const at = branch;
    let next: number;
    try {
      next = await store.call(() => m.step(at));
    } catch (err) {
      if (!(err instanceof ReplicationError && (err.code === 'bad_leaf' || err.code === 'origin_table_full'))) throw err;
      throw new ReplicationError('migration_refused', `the store under prefix "${keys.prefix}" cannot be migrated to ${m.version} at branch ${at}: ${err.message}`, { cause: err });
    }
    if (next < 0) return; // no longer in the old format (another process finished it): initFormat checks the marker
    branch = next;
  }
  logger.info({ prefix: keys.prefix }, `store: ${m.what} migrated to ${m.version}`);
}

/** Tree format v2 → v3 (commands/migrate-v2.lua): bucket digests into the leaves hashes, metadata into the leaf. */
function migrateFromV2(store: FormatContext, logger: Logger): Promise<void> {
  const prefix = store.keys.prefix;
  return migrate(store, logger, {
    from: TREE_FORMAT_V2, to: TREE_FORMAT_V3, progressField: META_FIELDS.migration, what: 'tree layout', version: 'v3',
    step: (branch) => runMigrateV2Step(store.redis, { prefix, v2Marker: TREE_FORMAT_V2, v3Marker: TREE_FORMAT_V3, branch }),
  });
}

/** Store format v3 → v4 (commands/migrate-v3.lua): binary leaves, the origin table, the paged live-key index. */
function migrateFromV3(store: FormatContext, logger: Logger): Promise<void> {
  const prefix = store.keys.prefix;
  return migrate(store, logger, {
    from: TREE_FORMAT_V3, to: TREE_FORMAT, progressField: META_FIELDS.migrationV4, what: 'store format', version: 'v4',
    step: (branch) => runMigrateV3Step(store.redis, { prefix, v3Marker: TREE_FORMAT_V3, v4Marker: TREE_FORMAT, branch }),
  });
}

/**
 * A Redis that comes back empty (restarted without its data, flushed, failed over to an empty
 * replica) has lost the format marker along with everything else. Without it every peer's cold
 * path refuses this store ("no store layout") and this store's cold path refuses every peer
 * (local format null), so the lost data could never be repaired: the hot path alone only
 * carries new changes. The marker is re-written (HSETNX: never over a different format, which
 * the cold path still refuses) each time the connection becomes ready.
 */
export async function restoreFormatMarker(store: Pick<FormatContext, 'redis' | 'keys'>): Promise<void> {
  try {
    await store.redis.hsetnx(store.keys.meta, META_FIELDS.format, TREE_FORMAT);
  } catch {
    // Connection lost again: the next 'ready' retries; connect() reports a real problem.
  }
}

/**
 * One atomic MULTI (then INFO for the run id): re-asserts the format marker (HSETNX: never over a different
 * format, which the cold path still refuses), makes the incarnation id if the data has none,
 * advances the epoch, reads the clock and the server's run id, and writes the owner node id. The marker is restored here
 * as well as on reconnect because a FLUSHALL does not drop the connection.
 */
export async function checkData(store: FormatContext): Promise<StoreDataState> {
  const candidate = randomUUID();
  const { redis, keys: { meta } } = store;
  const tx = redis.multi()
    .hsetnx(meta, META_FIELDS.format, TREE_FORMAT)
    .hsetnx(meta, META_FIELDS.incarnation, candidate)
    .hget(meta, META_FIELDS.incarnation)
    .hincrby(meta, META_FIELDS.epoch, 1)
    .hget(meta, META_FIELDS.clock)
    .hset(meta, META_FIELDS.owner, store.nodeId);
  const [, created, id, epoch, clock] = await store.exec(tx);
  // Apart from the MULTI: a local ACL user without INFO still gets the data checks, not the restart one.
  const info = await store.call(() => redis.info('server')).catch(() => '');
  const runId = /^run_id:([0-9a-f]+)\r?$/m.exec(info)?.[1] ?? null;
  return {
    incarnation: String(id ?? candidate),
    fresh: created === 1,
    epoch: Number(epoch),
    serverRunId: runId,
    clock: typeof clock === 'string' ? clock : null,
  };
}
