/**
 * Replication lag of one peer's tailer, from the peer stream's metadata and our cursor.
 * Milliseconds: the newest entry's id time minus the cursor's. Events: exact once the
 * tailer has once stood at the stream's head (counted from `entries-added` since then);
 * before that, the stream's length is the honest upper bound.
 *
 * While the peer cannot be asked (an open circuit) the milliseconds keep growing from the last
 * observation (`unreachable`) instead of freezing at it: what the peer wrote since is unread too.
 */
import { compareStreamIds, STREAM_START, streamIdLagMs } from '../cdc/stream-id.js';
import type { StreamInfo } from './gap.js';

export class LagTracker {
  lagMs = 0;
  lagEvents = 0;
  private baselineAdded: number | null = null;
  private readSinceBaseline = 0;
  /** The last observation's time (local clock, ms) and lag: where `unreachable` counts from. */
  private observed: { at: number; lagMs: number } | null = null;

  /** Entries consumed (read past) since the last observation. */
  onRead(count: number): void {
    this.readSinceBaseline += count;
  }

  /** `nowMs`: when the peer answered with `info`, the base of a later `unreachable`. */
  observe(cursor: string, info: StreamInfo | null, nowMs?: number): void {
    this.measure(cursor, info);
    if (nowMs !== undefined) this.observed = { at: nowMs, lagMs: this.lagMs };
  }

  /**
   * The peer cannot be asked now: the lag in ms is the last one observed plus the time since, an
   * upper bound (the peer may have written all along). Events keep the last count, a lower bound.
   */
  unreachable(nowMs: number): void {
    if (this.observed) this.lagMs = this.observed.lagMs + Math.max(0, nowMs - this.observed.at);
  }

  private measure(cursor: string, info: StreamInfo | null): void {
    if (info === null) {
      this.lagMs = 0;
      this.lagEvents = 0;
      return;
    }
    // Measured from the oldest entry still to read: before the first read (cursor 0-0), or when the
    // stream was trimmed past the cursor, the cursor's own time would count the stream's whole age.
    const from = info.firstEntryId !== null && compareStreamIds(cursor, info.firstEntryId) < 0 ? info.firstEntryId : cursor;
    this.lagMs = info.length === 0 && compareStreamIds(cursor, STREAM_START) === 0 ? 0 : streamIdLagMs(from, info.lastGeneratedId);
    if (compareStreamIds(cursor, info.lastGeneratedId) >= 0) {
      this.lagEvents = 0;
      this.baselineAdded = info.entriesAdded;
      this.readSinceBaseline = 0;
    } else if (this.baselineAdded !== null && info.entriesAdded !== null) {
      this.lagEvents = Math.max(0, info.entriesAdded - this.baselineAdded - this.readSinceBaseline);
    } else {
      this.lagEvents = info.length;
    }
  }

  /** The peer's stream was replaced (data loss): counts restart. */
  reset(): void {
    this.baselineAdded = null;
    this.readSinceBaseline = 0;
  }
}
