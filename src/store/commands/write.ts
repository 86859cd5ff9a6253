/**
 * The typed wrapper of write.lua: local writes, a group of them per call. The caller has validated
 * every field (key, content type, trace parent) and computed the hash and the wire form once.
 */
import type { Redis } from 'ioredis';
import type { Settled } from '../group-commit.js';
import { scripts } from './index.js';

export interface LocalWrite {
  readonly op: 'PUT' | 'DEL';
  readonly key: string;
  /** Empty for a DEL. */
  readonly content: Buffer;
  /** SHA-256 of content, hex; '' for a DEL. */
  readonly hash: string;
  /** '' for a DEL. */
  readonly contentType: string;
  /** What the CDC entry carries as `data` (content, or its zstd frame); empty for a DEL. */
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

const OP = { PUT: 'P', DEL: 'D' } as const;
const EMPTY = Buffer.alloc(0);

/** What one write adds to the packed argument (for the group's byte bound). */
export function packedWriteBytes(w: LocalWrite): number {
  return 1 + 6 * 4 + Buffer.byteLength(w.key) + w.content.length + w.hash.length + w.contentType.length + w.wire.length + w.traceParent.length;
}

/** The writes as write.lua's one packed argument. */
export function packWrites(writes: readonly LocalWrite[]): Buffer {
  const parts: Buffer[] = [];
  const field = (value: Buffer): void => {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(value.length);
    parts.push(length, value);
  };
  for (const w of writes) {
    parts.push(Buffer.from(OP[w.op]));
    field(Buffer.from(w.key));
    field(w.op === 'PUT' ? w.content : EMPTY);
    field(Buffer.from(w.hash));
    field(Buffer.from(w.contentType));
    field(w.op === 'PUT' ? w.wire : EMPTY);
    field(Buffer.from(w.traceParent));
  }
  return Buffer.concat(parts);
}

/** Runs write.lua for `writes`; one settled outcome per write, in order. */
export async function runWrites(redis: Redis, context: WriteContext, writes: readonly LocalWrite[]): Promise<Settled<WriteOutcome>[]> {
  const reply = await scripts.write.run(redis, [
    context.prefix, context.nodeId, context.nowMs, context.cdcMaxlen, context.maxAheadMs, writes.length, packWrites(writes),
  ]);
  if (!Array.isArray(reply)) throw new Error(`write.lua answered ${typeof reply}, not one reply per write`);
  return reply.map((r: unknown): Settled<WriteOutcome> => {
    if (r instanceof Error) return { ok: false, error: r };
    if (Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'string') return { ok: true, value: { hlc: r[0], version: Number(r[1]) } };
    return { ok: false, error: new Error(`write.lua answered ${JSON.stringify(r)} for a write`) };
  });
}
