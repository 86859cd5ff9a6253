/**
 * XREAD's COUNT, bounded in bytes. Redis cannot bound a reply in bytes, so the count is learned
 * from the entries' sizes: at most `maxReadBytes` over the largest entry of the last read. It
 * falls at once when large entries arrive and at most doubles per read when they are small again.
 * Nothing is known before the first read (after a restart, say) or when small entries give way to
 * large ones: the reply guard (peer/reply-guard.ts) then drops a reply past its bound, and `shrink`
 * makes the next read one entry, whose size the count is learned from again.
 */
import type { RawStreamEntry } from '../peer/peer-connection.js';

export class ReadSizer {
  private allowed = Number.MAX_SAFE_INTEGER;

  constructor(private maxReadBytes: number) {}

  /** Takes effect from the next read. */
  setMaxReadBytes(bytes: number): void {
    this.maxReadBytes = bytes;
  }

  /** The COUNT of the next read, given what the batch sizing asks for. */
  limit(requested: number): number {
    return Math.max(1, Math.min(requested, this.allowed));
  }

  /** A reply was too large for the bound: one entry per read until sizes are known again. */
  shrink(): void {
    this.allowed = 1;
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
