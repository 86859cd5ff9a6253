/**
 * apply.lua's arguments. The changes of one call travel as one packed argument instead of five
 * arguments each: per change the bucket (4 bytes) and five length-prefixed fields (a 4-byte
 * big-endian length, then the bytes), which the script takes apart with one
 * `struct.unpack('>c4I4c0I4c0I4c0I4c0I4c0')` call.
 * Built here in one buffer with one allocation, this spares the engine ioredis's per-argument
 * encoding (a header string, a byte count and a copy for each of thousands of arguments) and
 * Redis an argument object per field. Measured in BENCHMARKS.md.
 *
 * The fields, per change (the script documents how it uses them):
 *   bucket   the key's bucket: 4 hex digits, not length-prefixed
 *   leaf     the new leaf exactly as stored (leaf.ts)
 *   key      UTF-8
 *   content  the record's content ('' for a DEL)
 *   wire     the bytes to re-emit as `data`; '' when they are the content itself or emit is off
 *   meta     the JSON to re-emit ('' when emit is off)
 */
import { compressForWire } from '../../cdc/compression.js';
import { formatDelMeta, formatPutMeta } from '../../cdc/meta.js';
import { DIGEST_BYTES, bucketOf } from '../../merkle/tree-shape.js';
import type { Change } from '../../model/change.js';
import { leafParts } from '../leaf.js';

const FIELDS = 5;
const LENGTH_BYTES = 4;
const BUCKET_BYTES = 4;

/**
 * apply.lua's ARGV for validated changes: prefix, emit, cdc_maxlen, count, max_hlc, packed, now_ms,
 * max_ahead_ms (the script refuses a change stamped further ahead of now_ms: store.max_future_skew).
 */
export function applyArgs(
  prefix: string, changes: readonly Change[], emit: boolean, cdcMaxlen: number, nowMs: number, maxAheadMs: number,
): (string | number | Buffer)[] {
  // The script advances the clock to the greatest stamp. HLCs are fixed-width ASCII (validated),
  // so JavaScript's string order is their byte order.
  let maxHlc = '';
  for (const c of changes) if (c.hlc > maxHlc) maxHlc = c.hlc;
  return [prefix, emit ? '1' : '0', cdcMaxlen, changes.length, maxHlc, packChanges(changes, emit), nowMs, maxAheadMs];
}

/** The packed argument: for each change its bucket, then leaf, key, content, wire, meta, each length-prefixed. */
export function packChanges(changes: readonly Change[], emit: boolean): Buffer {
  const n = changes.length;
  const digests: string[] = new Array<string>(n);
  const leafTexts: string[] = new Array<string>(n);
  const buckets: string[] = new Array<string>(n);
  const keyBytes: number[] = new Array<number>(n);
  const wires: (Buffer | null)[] = new Array<Buffer | null>(n);
  const metas: string[] = new Array<string>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const c = changes[i]!;
    const { digestHex, text } = leafParts(c);
    digests[i] = digestHex;
    leafTexts[i] = text;
    buckets[i] = bucketOf(c.key);
    keyBytes[i] = Buffer.byteLength(c.key, 'utf8');
    let wire: Buffer | null = null;
    let meta = '';
    if (c.op === 'PUT' && emit) {
      const w = c.wireData ?? compressForWire(c.content);
      wire = w === c.content ? null : w; // the script re-emits the content itself
      meta = formatPutMeta(c);
    } else if (emit) {
      meta = formatDelMeta(c as Extract<Change, { op: 'DEL' }>);
    }
    wires[i] = wire;
    metas[i] = meta;
    total += FIELDS * LENGTH_BYTES + BUCKET_BYTES + DIGEST_BYTES + text.length + keyBytes[i]! +
      (c.op === 'PUT' ? c.content.length : 0) + (wire?.length ?? 0) + meta.length;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const c = changes[i]!;
    // The bucket (fixed width, no length), then the leaf: digest and text (all ASCII but the
    // digest: validated by the caller).
    const digest = digests[i]!;
    const text = leafTexts[i]!;
    at += out.write(buckets[i]!, at, 'latin1');
    at = out.writeUInt32BE(DIGEST_BYTES + text.length, at);
    at += out.write(digest, at, 'hex');
    at += out.write(text, at, 'latin1');
    at = out.writeUInt32BE(keyBytes[i]!, at);
    at += out.write(c.key, at, 'utf8');
    if (c.op === 'PUT') {
      at = out.writeUInt32BE(c.content.length, at);
      at += c.content.copy(out, at);
    } else {
      at = out.writeUInt32BE(0, at);
    }
    const wire = wires[i];
    at = out.writeUInt32BE(wire?.length ?? 0, at);
    if (wire) at += wire.copy(out, at);
    // Meta JSON is ASCII: every value in it is validated (enum, digits, hex, node-id charset).
    at = out.writeUInt32BE(metas[i]!.length, at);
    at += out.write(metas[i]!, at, 'latin1');
  }
  return out;
}
