/**
 * apply.lua's arguments. The changes of one call travel as one packed argument instead of many
 * arguments each: per change the bucket (4 bytes), the leaf digest (20 bytes), the index of its
 * origin among the call's origins (2 bytes) and seven length-prefixed fields (a 4-byte big-endian
 * length, then the bytes), which the script takes apart with one struct.unpack call.
 * Built here in one buffer with one allocation, this spares the engine ioredis's per-argument
 * encoding (a header string, a byte count and a copy for each of thousands of arguments) and
 * Redis an argument object per field. Measured in BENCHMARKS.md.
 *
 * The fields, per change (the script documents how it uses them):
 *   bucket   the key's bucket: 4 hex digits
 *   digest   the new leaf's digest: 20 bytes
 *   origin   1-based index into the call's origins: 2 bytes
 *   leaf     the new leaf as stored, without its origin id (leaf.ts)
 *   key      UTF-8
 *   content  the record's content ('' for a DEL)
 *   wire     the bytes to re-emit as `data`; '' when they are the content itself or emit is off
 *   meta     the JSON to re-emit ('' when emit is off)
 *   trace    the trace parent's 26 bytes ('' when unset)
 *   hash     the content hash, 64 hex digits, for the re-emitted entry ('' for a DEL or when emit is off)
 */
import { compressForWire } from '../../cdc/compression.js';
import { formatDelMeta, formatPutMeta } from '../../cdc/meta.js';
import { DIGEST_BYTES, bucketOf, leafDigest } from '../../merkle/tree-shape.js';
import type { Change } from '../../model/change.js';
import { TRACE_BYTES, leafWithoutOriginBytes, traceBytes, writeLeafWithoutOrigin } from '../leaf.js';
import { keyByteOrder } from './key-order.js';

const FIELDS = 7;
const LENGTH_BYTES = 4;
const BUCKET_BYTES = 4;
const ORIGIN_INDEX_BYTES = 2;

/**
 * apply.lua's ARGV for validated changes: prefix, emit, cdc_maxlen, count, max_hlc, packed, now_ms,
 * max_ahead_ms (the script refuses a change stamped further ahead of now_ms: store.max_future_skew),
 * origins (space-separated: no node id has a space), order (the changes' positions in the byte
 * order of their keys: key-order.ts).
 */
export function applyArgs(
  prefix: string, changes: readonly Change[], emit: boolean, cdcMaxlen: number, nowMs: number, maxAheadMs: number,
): (string | number | Buffer)[] {
  // The script advances the clock to the greatest stamp. HLCs are fixed-width ASCII (validated),
  // so JavaScript's string order is their byte order.
  let maxHlc = '';
  for (const c of changes) if (c.hlc > maxHlc) maxHlc = c.hlc;
  const origins = new Map<string, number>();
  const packed = packChanges(changes, emit, origins);
  const order = keyByteOrder(changes.map((c) => c.key));
  return [prefix, emit ? '1' : '0', cdcMaxlen, changes.length, maxHlc, packed, nowMs, maxAheadMs, [...origins.keys()].join(' '), order];
}

/** The packed argument; `origins` gets each origin the changes name, with its 1-based index. */
export function packChanges(changes: readonly Change[], emit: boolean, origins: Map<string, number>): Buffer {
  const n = changes.length;
  const digests: string[] = new Array<string>(n);
  const buckets: string[] = new Array<string>(n);
  const keyBytes: number[] = new Array<number>(n);
  const wires: (Buffer | null)[] = new Array<Buffer | null>(n);
  const metas: string[] = new Array<string>(n);
  const originIndexes: number[] = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const c = changes[i]!;
    const deleted = c.op === 'DEL';
    digests[i] = leafDigest(c.key, { hlc: c.hlc, origin: c.origin, hash: deleted ? '' : c.hash, deleted });
    buckets[i] = bucketOf(c.key);
    keyBytes[i] = Buffer.byteLength(c.key, 'utf8');
    let index = origins.get(c.origin);
    if (index === undefined) origins.set(c.origin, index = origins.size + 1);
    originIndexes[i] = index;
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
    const trace = c.op === 'PUT' && c.traceParent ? TRACE_BYTES : 0;
    total += FIELDS * LENGTH_BYTES + BUCKET_BYTES + DIGEST_BYTES + ORIGIN_INDEX_BYTES + leafWithoutOriginBytes(c) + keyBytes[i]! +
      (c.op === 'PUT' ? c.content.length : 0) + (wire?.length ?? 0) + meta.length + trace + (c.op === 'PUT' && emit ? c.hash.length : 0);
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const c = changes[i]!;
    at += out.write(buckets[i]!, at, 'latin1');
    at += out.write(digests[i]!, at, 'hex');
    at = out.writeUInt16BE(originIndexes[i]!, at);
    at = writeLeafWithoutOrigin(out, out.writeUInt32BE(leafWithoutOriginBytes(c), at), c);
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
    if (c.op === 'PUT' && c.traceParent) {
      at = out.writeUInt32BE(TRACE_BYTES, at);
      at += traceBytes(c.traceParent).copy(out, at);
    } else {
      at = out.writeUInt32BE(0, at);
    }
    if (c.op === 'PUT' && emit) {
      at = out.writeUInt32BE(c.hash.length, at);
      at += out.write(c.hash, at, 'latin1');
    } else {
      at = out.writeUInt32BE(0, at);
    }
  }
  return out;
}
