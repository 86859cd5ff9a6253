/**
 * One cold-path repair with one peer (docs/cold-path.md): compare trees, fetch only the keys the
 * peer wins, apply them through the store's apply path — the same LWW apply the hot path
 * uses, so a repair racing the hot path (or the peer moving on) is harmless.
 *
 * What a repair never does: delete a key because the peer lacks it (only a tombstone
 * deletes, and only by winning LWW), fetch or re-apply a tombstone past the horizon, or
 * push to the peer (each node only pulls; the peer pulls from us in its own cycle).
 */
import { ValidationError, errorMessage } from '../errors.js';
import type { Change } from '../model/change.js';
import { stampWins } from '../model/stamp.js';
import { isTooFarAhead } from '../model/future-stamp.js';
import type { StoreReader, LocalStore } from '../store/local-store.js';
import { compareWithPeer, type DivergenceReport } from './compare.js';
import { isExpiredTombstone, tombstoneHorizon, type DivergentKey } from './diff.js';
import { ColdPathError, onSide } from './errors.js';
import { DEFAULTS } from '../defaults.js';

/** Keys fetched and applied per round trip: bounds memory and the size of one Lua call. */
export const DEFAULT_APPLY_CHUNK = 500;
/** Deferred changes named in a repair's result (and log line); the rest are only counted. */
const DEFERRED_KEYS_KEPT = 10;
/** Record bytes fetched and applied per round (a bigger record goes alone). */
export const DEFAULT_MAX_FETCH_BYTES = DEFAULTS.maxFetchBytes;

export type RefusalReason = 'no_store_layout' | 'tree_format_mismatch';

export interface RepairOptions {
  store: LocalStore;
  peer: StoreReader;
  peerId: string;
  /** Budget: keys the peer wins fetched and applied at most in this repair. */
  maxItems: number;
  /** Tombstone TTL of the mesh (ms): older tombstones count as absent. Null/absent: no horizon. */
  tombstoneTtlMs?: number | null;
  /** Start the drill-down at this branch (the previous repair's `report.resumeBranch`). */
  startBranch?: string | null;
  /** Keys per fetch + apply round. Default 500. */
  applyChunkSize?: number;
  /**
   * Record bytes per fetch + apply round, by the sizes the peer reports first (StoreReader.recordSizes;
   * a peer without it is fetched by count alone). Default 32 MiB.
   */
  maxFetchBytes?: number;
  /** Branches drilled in parallel. Default 8. */
  branchConcurrency?: number;
  /** Checked between fetch + apply rounds: an abort ends the repair as 'partial'. */
  signal?: AbortSignal;
  /** Wall clock (ms): the tombstone horizon, the far-future rule and durations. */
  now?: () => number;
  /**
   * store.max_future_skew: a key whose peer leaf is stamped further ahead of the wall clock is not
   * fetched (the store would refuse it) but counted as deferred. Absent: left to the store alone.
   */
  maxFutureSkewMs?: number;
}

/** A change the local apply path refused as invalid (e.g. larger than our max_payload_bytes). */
export interface RejectedChange {
  key: string;
  code: string;
  message: string;
}

interface RepairStats {
  peerId: string;
  /** Records and tombstones read from the peer. */
  fetched: number;
  /** Changes handed to `applyChanges`. */
  submitted: number;
  /** Changes that won LWW locally and were written. */
  applied: number;
  /** Fetched but not submitted: no longer beating our leaf, or a tombstone past the horizon. */
  skipped: number;
  /** Keys the peer won that it no longer had when fetched. */
  vanished: number;
  rejected: RejectedChange[];
  /**
   * Changes the store refused for now as stamped too far ahead of the wall clock ('future',
   * store.max_future_skew): left on the peer, applied by a later repair once the clock catches up.
   */
  deferred: number;
  /** The first few of them, for the log. */
  deferredKeys: { key: string; hlc: string; origin: string }[];
  durationMs: number;
}

/**
 * What one repair did (a *run*; the scheduler's RepairOutcome wraps it, or says why none ran):
 * - in_sync: roots equal. repaired: every key the peer wins was pulled (maybe none: the peer may be
 *   the one behind). partial: the budget (or an abort) cut it short.
 * - failed: a read or the apply failed; `error` says which side.
 * - refused: the trees cannot be compared (RefusalReason); nothing was read but formats and roots.
 */
export type RepairRun =
  | (RepairStats & {
    result: 'in_sync' | 'repaired' | 'partial';
    /** True when keys the peer wins are left for a later repair. */
    remaining: boolean;
    report: DivergenceReport;
  })
  | (RepairStats & {
    result: 'failed';
    error: ColdPathError;
    /** The comparison, when the failure came after it. */
    report: DivergenceReport | null;
  })
  | {
    result: 'refused';
    peerId: string;
    reason: RefusalReason;
    message: string;
    localFormat: string | null;
    peerFormat: string | null;
    durationMs: number;
  };

function assertPositive(value: number, field: string): void {
  if (value === Number.POSITIVE_INFINITY) return;
  if (!Number.isSafeInteger(value) || value < 1) throw new ValidationError('invalid_option', field, `must be a positive integer, got ${value}`);
}

/** Why we refuse to compare trees with this peer, if we do. */
export function refusalReason(localFormat: string | null, peerFormat: string | null): RefusalReason | null {
  if (peerFormat === null) return 'no_store_layout';
  return peerFormat === localFormat ? null : 'tree_format_mismatch';
}

export async function repairWithPeer(options: RepairOptions): Promise<RepairRun> {
  const { store, peer, peerId } = options;
  const now = options.now ?? Date.now;
  const applyChunk = options.applyChunkSize ?? DEFAULT_APPLY_CHUNK;
  assertPositive(options.maxItems, 'maxItems');
  assertPositive(applyChunk, 'applyChunkSize');
  const maxFetchBytes = options.maxFetchBytes ?? DEFAULT_MAX_FETCH_BYTES;
  assertPositive(maxFetchBytes, 'maxFetchBytes');
  const started = now();
  const stats: RepairStats = { peerId, fetched: 0, submitted: 0, applied: 0, skipped: 0, vanished: 0, rejected: [], deferred: 0, deferredKeys: [], durationMs: 0 };
  const elapsed = (): number => Math.max(0, now() - started);
  let report: DivergenceReport | null = null;

  try {
    // Formats and roots in one round trip: an in-sync peer costs exactly that.
    const [localFormat, peerFormat, localRoot, peerRoot] = await Promise.all([
      onSide('local', 'tree format read', () => store.treeFormat()),
      onSide('peer', 'tree format read', () => peer.treeFormat()),
      onSide('local', 'root read', () => store.merkleRoot()),
      onSide('peer', 'root read', () => peer.merkleRoot()),
    ]);
    const reason = refusalReason(localFormat, peerFormat);
    if (reason) {
      const message = reason === 'no_store_layout'
        ? `peer ${peerId} holds no replication-engine store (no tree format marker): the cold path cannot compare trees with it`
        : `peer ${peerId} has tree format "${peerFormat}", we have "${localFormat}": the cold path refuses to compare them`;
      return { result: 'refused', peerId, reason, message, localFormat, peerFormat, durationMs: elapsed() };
    }

    const horizon = tombstoneHorizon(now(), options.tombstoneTtlMs);
    report = await compareWithPeer(store, peer, {
      maxKeys: options.maxItems,
      tombstoneHorizonHlc: horizon,
      startBranch: options.startBranch ?? null,
      peerWinsOnly: true,
      roots: { local: localRoot, peer: peerRoot },
      ...(options.branchConcurrency !== undefined ? { branchConcurrency: options.branchConcurrency } : {}),
    });
    if (report.inSync) return { ...stats, result: 'in_sync', remaining: false, report, durationMs: elapsed() };

    const winners = report.keys.filter((k) => k.winner === 'peer');
    let aborted = false;
    for (let i = 0; i < winners.length && !aborted;) {
      // Sizes of a count-bounded group first (one cheap round trip), then fetched and applied in
      // rounds of at most maxFetchBytes: 500 records of 16 MiB are 8 GB.
      const slice = winners.slice(i, i + applyChunk);
      i += slice.length;
      const group = deferTooFarAhead(slice, now(), options.maxFutureSkewMs, stats);
      const sizes = group.length > 0 && peer.recordSizes ? await onSide('peer', 'record sizes read', () => peer.recordSizes!(group.map((d) => d.key))) : null;
      for (const [start, end] of byteRounds(sizes, group.length, maxFetchBytes)) {
        if (options.signal?.aborted) {
          aborted = true;
          break;
        }
        await pullChunk(store, peer, group.slice(start, end), horizon, stats);
      }
    }
    const remaining = report.truncated || aborted;
    // Roots that differ only by keys we win (the peer pulls those in its own cycle) leave nothing
    // to pull here: for this node that is "in sync", not a repair of zero keys.
    const result = remaining ? 'partial' : stats.applied === 0 && winners.length === 0 ? 'in_sync' : 'repaired';
    return { ...stats, result, remaining, report, durationMs: elapsed() };
  } catch (err) {
    if (!(err instanceof ColdPathError)) throw err;
    return { ...stats, result: 'failed', error: err, report, durationMs: elapsed() };
  }
}

/**
 * The keys of a chunk worth fetching: one whose peer stamp is too far ahead would be refused by the
 * store, so fetching its content (up to max_payload_bytes) every cycle until the clock catches up
 * would be wasted. Those are counted as deferred, as the store's refusal would count them.
 */
function deferTooFarAhead(chunk: readonly DivergentKey[], nowMs: number, maxFutureSkewMs: number | undefined, stats: RepairStats): DivergentKey[] {
  if (maxFutureSkewMs === undefined) return [...chunk];
  return chunk.filter((d) => {
    if (d.peer === null || !isTooFarAhead(d.peer.hlc, nowMs, maxFutureSkewMs)) return true;
    noteDeferred(stats, d.key, d.peer.hlc, d.peer.origin);
    return false;
  });
}

function noteDeferred(stats: RepairStats, key: string, hlc: string, origin: string): void {
  stats.deferred++;
  if (stats.deferredKeys.length < DEFERRED_KEYS_KEPT) stats.deferredKeys.push({ key, hlc, origin });
}

/** [start, end) rounds of `count` keys, each of at most `maxBytes` by `sizes` (a bigger record alone); one round without sizes. */
export function byteRounds(sizes: readonly number[] | null, count: number, maxBytes: number): [number, number][] {
  if (sizes === null) return count === 0 ? [] : [[0, count]];
  const rounds: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const size = sizes[i] ?? 0;
    if (i > start && bytes + size > maxBytes) {
      rounds.push([start, i]);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (count > start) rounds.push([start, count]);
  return rounds;
}

/** Fetches one chunk of peer-winning keys, keeps those that still beat what we compared, applies them. */
async function pullChunk(
  store: LocalStore,
  peer: StoreReader,
  chunk: readonly DivergentKey[],
  horizon: string | null,
  stats: RepairStats,
): Promise<void> {
  const compared = new Map(chunk.map((divergent) => [divergent.key, divergent]));
  const changes = await onSide('peer', 'record fetch', () => peer.fetchChanges(chunk.map((divergent) => divergent.key)));
  const toApply: Change[] = [];
  let found = 0;
  for (const change of changes) {
    const asked = compared.get(change.key);
    if (!asked) continue; // not asked for: ignore
    found++;
    stats.fetched++;
    // The peer may have moved on since the drill-down: still fine if it beats the leaf we compared
    // (the apply re-checks against our current leaf anyway). A tombstone that crossed the horizon
    // meanwhile is not re-applied.
    const expired = change.op === 'DEL' && isExpiredTombstone({ hlc: change.hlc, origin: change.origin, hash: '', deleted: true }, horizon);
    if (expired || !stampWins(change, asked.local)) {
      stats.skipped++;
      continue;
    }
    toApply.push(change);
  }
  stats.vanished += chunk.length - found;
  if (toApply.length === 0) return;
  stats.submitted += toApply.length;
  stats.applied += await applyAll(store, toApply, stats);
}


/**
 * Applies a batch; returns how many were applied. A ValidationError means the store changed
 * nothing, so the batch is retried one change at a time and only the invalid ones are left
 * out (reported): one bad record on a peer must not block every repair after it.
 */
async function applyAll(store: LocalStore, changes: readonly Change[], stats: RepairStats): Promise<number> {
  const count = (outcomes: readonly string[], batch: readonly Change[]): number => {
    let applied = 0;
    outcomes.forEach((o, i) => {
      if (o === 'applied') applied++;
      if (o !== 'future') return;
      const c = batch[i]!;
      noteDeferred(stats, c.key, c.hlc, c.origin);
    });
    return applied;
  };
  const rejected = stats.rejected;
  try {
    return count(await store.applyChanges(changes), changes);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw applyFailed(err);
  }
  let applied = 0;
  for (const change of changes) {
    try {
      applied += count(await store.applyChanges([change]), [change]);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw applyFailed(err);
      rejected.push({ key: change.key, code: err.code, message: err.message });
    }
  }
  return applied;
}

function applyFailed(err: unknown): ColdPathError {
  return new ColdPathError('apply_failed', 'local', `applying repairs failed: ${errorMessage(err)}`, { cause: err });
}
