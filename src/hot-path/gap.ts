/**
 * Gap detection (docs/hot-path.md), as a pure decision over the peer stream's metadata
 * (XINFO STREAM): entries after our cursor were trimmed away, or the peer's stream is
 * behind our cursor because it lost its data. Either way the hot path cannot deliver
 * what was missed: the cold path must repair.
 */
import { compareStreamIds, STREAM_START } from '../cdc/stream-id.js';
import type { StreamInfo } from '../peer/peer-connection.js';

export type { StreamInfo };


export type GapKind = 'trimmed' | 'peer_behind';

export function detectGap(cursor: string, info: StreamInfo | null): GapKind | null {
  if (info === null) {
    // No stream at all: a peer that had entries for us and now has none lost its data.
    return cursor !== STREAM_START ? 'peer_behind' : null;
  }
  if (compareStreamIds(info.lastGeneratedId, cursor) < 0) return 'peer_behind';
  // XDEL (and trimming on Redis >= 7.2) record the greatest removed id: past our cursor means lost entries.
  if (info.maxDeletedId !== null && compareStreamIds(info.maxDeletedId, cursor) > 0) return 'trimmed';
  if (cursor === STREAM_START) return null;
  // Redis 7.0/7.0.x trimming does not record removed ids, so look at what is left. Trimming eats the
  // stream from the head: when even our cursor's entry is gone (the first entry left is past it, or
  // nothing is left although entries were added past it), entries after it may have gone unread.
  // Conservative on purpose: a needless repair costs a tree comparison, a missed gap costs data.
  if (info.length === 0) return compareStreamIds(info.lastGeneratedId, cursor) > 0 ? 'trimmed' : null;
  return info.firstEntryId !== null && compareStreamIds(info.firstEntryId, cursor) > 0 ? 'trimmed' : null;
}
