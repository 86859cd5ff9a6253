/**
 * The pure half of the cold path: which tree nodes differ, and for one key which side's
 * leaf wins. No I/O here; compare.ts drives these over two StoreReaders.
 */
import { formatHlc } from '../model/hlc.js';
import { compareStamps } from '../model/stamp.js';
import type { LeafStamp } from '../store/local-store.js';

export type Winner = 'local' | 'peer' | 'equal';

/** One key whose leaves differ between the two trees. Stamps only: no content was read. */
export interface DivergentKey {
  key: string;
  /** Our leaf; null when we lack the key (or hold only a tombstone past the horizon). */
  local: LeafStamp | null;
  /** The peer's leaf; null likewise. */
  peer: LeafStamp | null;
  /**
   * Whose (hlc, origin) is greater. 'equal' means the same stamp with different content,
   * which the model rules out (one origin never issues a stamp twice); it is reported as a
   * conflict and left alone, since LWW cannot pick a side.
   */
  winner: Winner;
}

/**
 * Ids (branch or bucket) whose digest differs, including ids present on one side only,
 * in ascending order. Digest maps hold non-zero digests only, so "absent" means "empty".
 */
export function divergentIds(local: ReadonlyMap<string, string>, peer: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [id, digest] of local) if (peer.get(id) !== digest) out.push(id);
  for (const id of peer.keys()) if (!local.has(id)) out.push(id);
  return out.sort();
}

/** `ids` (sorted) rotated to start at the first id ≥ `start`: a cut-short cycle resumes where it stopped. */
export function rotateFrom(ids: readonly string[], start: string | null | undefined): string[] {
  if (!start) return [...ids];
  const i = ids.findIndex((id) => id >= start);
  return i <= 0 ? [...ids] : [...ids.slice(i), ...ids.slice(0, i)];
}

/**
 * The HLC below which a tombstone counts as gone: `now - ttl`, the moment every node's
 * tombstone GC drops it (by the tombstone's own hlc time, docs/architecture.md). Null: no horizon.
 */
export function tombstoneHorizon(nowMs: number, tombstoneTtlMs: number | null | undefined): string | null {
  if (tombstoneTtlMs === null || tombstoneTtlMs === undefined || !Number.isFinite(tombstoneTtlMs)) return null;
  return formatHlc(Math.max(0, Math.floor(nowMs - tombstoneTtlMs)), 0);
}

export function isExpiredTombstone(leaf: LeafStamp, horizonHlc: string | null | undefined): boolean {
  return leaf.deleted && horizonHlc !== null && horizonHlc !== undefined && leaf.hlc < horizonHlc;
}

function sameLeaf(a: LeafStamp, b: LeafStamp): boolean {
  return a.hlc === b.hlc && a.origin === b.origin && a.hash === b.hash && a.deleted === b.deleted;
}

/**
 * Decides one key. Null when there is nothing to say: identical leaves, or a difference that
 * only a tombstone past the horizon makes.
 *
 * The winner is decided on the real stamps (LWW, compareStamps), then the horizon applies:
 * - the winning leaf is an expired tombstone → null. It is never fetched (docs/architecture.md), and
 *   the loser could not replace it anyway: applying the loser would be a no-op until the
 *   tombstone's owner collects it.
 * - the losing leaf is an expired tombstone → shown as absent (null).
 * So two nodes that drop the same tombstone a moment apart never copy it back and forth.
 * A key only one side has is won by that side: lacking a key is never a delete.
 */
export function classifyKey(
  key: string,
  local: LeafStamp | undefined,
  peer: LeafStamp | undefined,
  horizonHlc: string | null | undefined,
): DivergentKey | null {
  if (!local && !peer) return null;
  if (local && peer && sameLeaf(local, peer)) return null;
  let winner: Winner;
  if (!local) winner = 'peer';
  else if (!peer) winner = 'local';
  else {
    const c = compareStamps(peer, local);
    winner = c > 0 ? 'peer' : c < 0 ? 'local' : 'equal';
  }
  const localShown = local && !isExpiredTombstone(local, horizonHlc) ? local : null;
  const peerShown = peer && !isExpiredTombstone(peer, horizonHlc) ? peer : null;
  if (winner === 'peer' && !peerShown) return null;
  if (winner === 'local' && !localShown) return null;
  if (winner === 'equal' && !localShown && !peerShown) return null;
  return { key, local: localShown, peer: peerShown, winner };
}

/** Every divergent key of one bucket, in key order (deterministic budgets and reports). */
export function diffBucket(
  local: ReadonlyMap<string, LeafStamp> | undefined,
  peer: ReadonlyMap<string, LeafStamp> | undefined,
  horizonHlc: string | null | undefined,
): DivergentKey[] {
  const keys = new Set<string>([...(local?.keys() ?? []), ...(peer?.keys() ?? [])]);
  const out: DivergentKey[] = [];
  for (const key of [...keys].sort()) {
    const divergent = classifyKey(key, local?.get(key), peer?.get(key), horizonHlc);
    if (divergent) out.push(divergent);
  }
  return out;
}
