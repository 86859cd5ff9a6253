/**
 * Within one batch, several changes to the same key collapse to the LWW winner before the
 * apply: fewer writes, and the result is the same because the merge is idempotent and
 * order-independent (docs/architecture.md). Own-origin entries were dropped before this.
 */
import type { CdcEntry } from '../model/change.js';
import { compareStamps } from '../model/stamp.js';

export interface Collapsed {
  /** Winners, in the order their keys first appeared. */
  winners: CdcEntry[];
  /** How many entries lost to a later/greater change of the same key in this batch. */
  collapsed: number;
}

export function collapseByKey(entries: readonly CdcEntry[]): Collapsed {
  const byKey = new Map<string, CdcEntry>();
  for (const e of entries) {
    const cur = byKey.get(e.key);
    if (!cur || compareStamps(e, cur) > 0) byKey.set(e.key, e);
  }
  return { winners: [...byKey.values()], collapsed: entries.length - byKey.size };
}
