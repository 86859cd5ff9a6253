/**
 * How a batch of changes is cut into apply script calls: at most `maxChanges` changes and at most
 * `maxBytes` packed bytes per call (a change larger than `maxBytes` goes alone). One call's changes
 * travel as one Redis argument (apply-args.ts), and Redis refuses an argument larger than its
 * `proto-max-bulk-len` (512 MB by default) by dropping the connection: a batch of big records sent
 * as one call could never be applied.
 */
import type { Change } from '../../model/change.js';

/** Redis's default `proto-max-bulk-len`: no apply call may carry more in its one packed argument. */
export const MAX_APPLY_BYTES_LIMIT = 512 * 1024 * 1024;

/**
 * Packed bytes of one change, an upper bound of what packChanges writes for it: content, wire
 * frame, key, and a fixed allowance for the leaf, the meta JSON and the length prefixes.
 */
export function packedSizeOf(change: Change): number {
  const key = change.key.length * 3; // UTF-8 bytes of a UTF-16 string, at most
  if (change.op === 'DEL') return key + PER_CHANGE_OVERHEAD;
  // Without wire bytes, packChanges frames the content itself: smaller than it, or a little larger
  // for content that starts with the zstd magic (always framed).
  const wire = change.wireData === undefined ? change.content.length + (change.content.length >> 8)
    : change.wireData === change.content ? 0 : change.wireData.length;
  return key + change.content.length + wire + PER_CHANGE_OVERHEAD + (change.traceParent?.length ?? 0) * 2;
}

/** Leaf text, meta JSON, bucket and length prefixes of one change: well above their largest size. */
const PER_CHANGE_OVERHEAD = 1024;

/** [start, end) ranges of `changes`, in order, each one apply call. */
export function applyChunks(changes: readonly Change[], maxChanges: number, maxBytes: number): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < changes.length; i++) {
    const size = packedSizeOf(changes[i]!);
    if (i > start && (i - start >= maxChanges || bytes + size > maxBytes)) {
      ranges.push([start, i]);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (changes.length > start) ranges.push([start, changes.length]);
  return ranges;
}
