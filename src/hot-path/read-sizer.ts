/**
 * XREAD's COUNT, bounded in bytes. Redis cannot bound a reply in bytes, so the count is learned
 * from the entries' sizes: at most `maxReadBytes` over the largest entry of the last read. It
 * starts at one entry (after a restart nothing is known of the backlog: it may be all large
 * entries), falls at once when large entries arrive, and at most doubles per read when they are
 * small again. A run of large entries after small ones costs one oversized read at most, whose
 * sizes then bring the count down; never a read that cannot succeed again and again.
 */
import type { RawStreamEntry } from '../peer/peer-connection.js';

export class ReadSizer {
  private allowed = 1;

  constructor(private maxReadBytes: number) {}

  /** Takes effect from the next read. */
  setMaxReadBytes(bytes: number): void {
    this.maxReadBytes = bytes;
  }

  /** The COUNT of the next read, given what the batch sizing asks for. */
  limit(requested: number): number {
    return Math.max(1, Math.min(requested, this.allowed));
  }

  /** Learns from one read's entries (none: nothing learnt). */
  observe(entries: readonly RawStreamEntry[]): void {
    if (entries.length === 0) return;
    let largest = 1;
    for (const e of entries) largest = Math.max(largest, entryBytes(e));
    const fit = Math.max(1, Math.floor(this.maxReadBytes / largest));
    this.allowed = Math.min(fit, this.allowed * 2);
  }
}

/** Bytes of one entry as read: its id and every field name and value. */
export function entryBytes(entry: RawStreamEntry): number {
  let bytes = entry.id.length;
  for (const f of entry.fields) bytes += f.length;
  return bytes;
}
