/**
 * Watching a peer's stream from its metadata (XINFO STREAM, docs/hot-path.md "Gap detection" and
 * "Lag and catching up"): when to look again, and what a look means. `watchStream` is the pure
 * decision; `StreamWatch` keeps the little state it needs (when it last looked, the last gap it
 * reported), so the tailer only carries out the verdict.
 */
import { compareStreamIds } from '../cdc/stream-id.js';
import type { StreamInfo } from '../peer/peer-connection.js';
import { detectGap, type GapKind } from './gap.js';

/** How often the tailer reads the peer stream's metadata. */
export const STREAM_INFO_INTERVAL_MS = 1000;

export interface GapVerdict {
  kind: GapKind;
  /** The peer's stream was replaced: drain the window, read it from its start. */
  reset: boolean;
  /** Identifies this gap, so that it is reported once however often it is seen again. */
  signal: string;
}

/**
 * A gap not reported yet, or null: none, or the same one (same kind, same stream ids) as
 * `lastSignal`. Only a `peer_behind` gap resets the cursor; a trimmed one is read on from there.
 */
export function watchStream(cursor: string, info: StreamInfo | null, lastSignal: string | null): GapVerdict | null {
  const kind = detectGap(cursor, info);
  if (kind === null) return null;
  const signal = `${kind}:${info?.maxDeletedId ?? ''}:${info?.lastGeneratedId ?? ''}`;
  if (signal === lastSignal) return null;
  return { kind, reset: kind === 'peer_behind', signal };
}

/**
 * After a look (and any reset): more than `maxBatchSize` entries are still unread, so the tailer
 * is catching up. False says nothing (only a read that comes back short ends catching up).
 */
export function farBehind(cursor: string, info: StreamInfo | null, lagEvents: number, maxBatchSize: number): boolean {
  return info !== null && compareStreamIds(cursor, info.lastGeneratedId) < 0 && lagEvents > maxBatchSize;
}

export class StreamWatch {
  private lastLookAt = Number.NEGATIVE_INFINITY;
  private lastSignal: string | null = null;

  /** Time to read the metadata again. */
  due(nowMs: number): boolean {
    return nowMs - this.lastLookAt >= STREAM_INFO_INTERVAL_MS;
  }

  /** A call to the peer failed: look for gaps as soon as it answers again, whatever the interval. */
  peerLost(): void {
    this.lastLookAt = Number.NEGATIVE_INFINITY;
  }

  /** The peer answered with `info` at `nowMs`: the gap to act on, if any (see watchStream). */
  look(cursor: string, info: StreamInfo | null, nowMs: number): GapVerdict | null {
    this.lastLookAt = nowMs;
    const gap = watchStream(cursor, info, this.lastSignal);
    if (gap) this.lastSignal = gap.signal;
    return gap;
  }
}
