/**
 * Last-writer-wins (docs/architecture.md): the change with the greater (hlc, origin) wins, for PUT
 * and DEL alike. HLCs are fixed-width digit strings and node ids are ASCII (see
 * node-id.ts), so JavaScript string comparison equals byte comparison here and in Lua.
 */
export interface Stamp {
  hlc: string;
  origin: string;
}

/** -1, 0 or 1 as `a` loses to, equals, or beats `b`. */
export function compareStamps(a: Stamp, b: Stamp): -1 | 0 | 1 {
  if (a.hlc !== b.hlc) return a.hlc < b.hlc ? -1 : 1;
  if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
  return 0;
}

export function stampWins(candidate: Stamp, current: Stamp | null): boolean {
  return current === null || compareStamps(candidate, current) > 0;
}

/** What a leaf of the Merkle tree says about one key: enough to decide LWW without content. */
export interface LeafStamp extends Stamp {
  /** Content hash; empty for a tombstone. */
  hash: string;
  deleted: boolean;
}
