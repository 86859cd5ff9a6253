/**
 * The typed wrapper of write.lua: local writes, a group of them per call. The caller has validated
 * every field (key, content type, trace parent) and computed the hash and the wire form once.
 */
import type { Redis } from 'ioredis';
import type { Settled } from '../group-commit.js';
import { TRACE_BYTES, traceBytes } from '../leaf.js';
import { scripts } from './index.js';
import { keyByteOrder } from './key-order.js';

export interface LocalWrite {
  readonly op: 'PUT' | 'DEL';
  readonly key: string;
  /** Empty for a DEL. */
  readonly content: Buffer;
  /** SHA-256 of content, hex; '' for a DEL. */
  readonly hash: string;
  /** '' for a DEL. */
  readonly contentType: string;
  /** What the CDC entry carries as `data` (content, or its zstd frame); empty for a DEL. Not sent when it is the content. */
  readonly wire: Buffer;
  /** '' when unset. */
  readonly traceParent: string;
}

export interface WriteContext {
  readonly prefix: string;
  readonly nodeId: string;
  readonly nowMs: number;
  readonly cdcMaxlen: number;
  readonly maxAheadMs: number;
}

export interface WriteOutcome {
  readonly hlc: string;
  readonly version: number;
}

const OP_BYTE = { PUT: 0x50, DEL: 0x44 } as const; // 'P', 'D'
const EMPTY = Buffer.alloc(0);

/** The wire form as packed: empty when it is the content itself (write.lua then emits the content).
 * compressForWire returns the content object itself when it does not frame it: an identity check, no
 * byte comparison of a big record. */
function packedWire(w: LocalWrite): Buffer {
  return w.op === 'DEL' || w.wire === w.content ? EMPTY : w.wire;
}

/** What one write adds to the packed argument (for the group's byte bound). */
export function packedWriteBytes(w: LocalWrite): number {
  const content = w.op === 'PUT' ? w.content.length : 0;
  // The hash goes twice: as its hex digits and as its bytes.
  return 1 + 8 * 4 + Buffer.byteLength(w.key) + content + w.hash.length + w.hash.length / 2 + w.contentType.length + packedWire(w).length +
    w.traceParent.length + (w.traceParent === '' ? 0 : TRACE_BYTES);
}

/** The writes as write.lua's one packed argument: one buffer, written in place. */
export function packWrites(writes: readonly LocalWrite[]): Buffer {
  let size = 0;
  for (const w of writes) size += packedWriteBytes(w);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const bytes = (value: Buffer): void => {
    at = out.writeUInt32BE(value.length, at);
    at += value.copy(out, at);
  };
  const text = (value: string): void => {
    const length = out.write(value, at + 4, 'utf8');
    out.writeUInt32BE(length, at);
    at += 4 + length;
  };
  for (const w of writes) {
    out[at++] = OP_BYTE[w.op];
    text(w.key);
    bytes(w.op === 'PUT' ? w.content : EMPTY);
    text(w.hash);
    at = out.writeUInt32BE(w.hash.length / 2, at);
    at += out.write(w.hash, at, 'hex');
    text(w.contentType);
    bytes(packedWire(w));
    text(w.traceParent);
    bytes(w.traceParent === '' ? EMPTY : traceBytes(w.traceParent));
  }
  if (at !== size) throw new Error(`packWrites: wrote ${at} bytes of ${size}`);
  return out;
}

/** Runs write.lua for `writes`; one settled outcome per write, in order. */
export async function runWrites(redis: Redis, context: WriteContext, writes: readonly LocalWrite[]): Promise<Settled<WriteOutcome>[]> {
  const reply = await scripts.write.run(redis, [
    context.prefix, context.nodeId, context.nowMs, context.cdcMaxlen, context.maxAheadMs, writes.length, packWrites(writes),
    keyByteOrder(writes.map((w) => w.key)),
  ]);
  if (!Array.isArray(reply)) throw new Error(`write.lua answered ${typeof reply}, not one reply per write`);
  return reply.map((r: unknown): Settled<WriteOutcome> => {
    if (r instanceof Error) return { ok: false, error: r };
    if (Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'string') return { ok: true, value: { hlc: r[0], version: Number(r[1]) } };
    return { ok: false, error: new Error(`write.lua answered ${JSON.stringify(r)} for a write`) };
  });
}
