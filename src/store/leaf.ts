/**
 * A leaf as the store keeps it in its bucket's leaves hash (store format v4, docs/wire-format.md):
 * binary and fixed-width, so that a bucket's hash stays a listpack (values of at most 64 bytes).
 *
 *   0-2    origin id (the store's origin table, commands/includes/origins.lua)
 *   3      flags: 1 tombstone, 2 content type binary (else json), 4 the record ends with its trace parent
 *   4-13   hlc: its first 7 digits (3 bytes), its next 9 (4 bytes), its logical counter (3 bytes)
 *   14-20  version (7 bytes)
 *   21-27  updated_at, ms (7 bytes)
 *   28-59  content hash, SHA-256 (live records only)
 *
 * All integers big-endian. The Lua side (commands/includes/leaf.lua, stamps.lua) reads and writes
 * the same bytes. The leaf digest is not stored: it is computed from the stamp when needed.
 */
import { ReplicationError } from '../errors.js';
import type { Change, ContentType } from '../model/change.js';
import { isTraceParent } from '../model/trace-parent.js';
import type { LeafStamp } from './local-store.js';

export const ORIGIN_ID_BYTES = 3;
const FLAGS_AT = 3;
const HLC_AT = 4;
const VERSION_AT = 14;
const UPDATED_AT = 21;
const HASH_AT = 28;
export const TOMBSTONE_LEAF_BYTES = 28;
export const LIVE_LEAF_BYTES = 60;
const FLAG_DELETED = 1;
const FLAG_BINARY = 2;
const FLAG_TRACE = 4;
/** A trace parent as the record keeps it after its content: version, trace id, parent id, flags. */
export const TRACE_BYTES = 26;

/** A leaf as stored: the stamp the cold path compares, and the metadata of the record. */
export interface StoredLeaf {
  stamp: LeafStamp;
  contentType: ContentType;
  version: number;
  updatedAt: number;
  /** Whether the record's value ends with its trace parent (TRACE_BYTES). */
  hasTrace: boolean;
}

/** The origin id a stored leaf names (its first 3 bytes), as a number; null when too short to have one. */
export function leafOriginId(raw: Buffer): number | null {
  return raw.length >= ORIGIN_ID_BYTES ? raw.readUIntBE(0, ORIGIN_ID_BYTES) : null;
}

/**
 * A stored leaf, with its origin's node id (the store's origin table names it). A value without
 * the shape is reported, not guessed at: a peer's store is input. The stamp is checked for its
 * shape only: one beyond the range (an older version let it in) still compares, so the cold path
 * can go on with the rest of the tree; applying it is refused like any out-of-range change.
 */
export function parseLeaf(raw: Buffer, key: string, origin: string): StoredLeaf {
  const flags = raw.length >= TOMBSTONE_LEAF_BYTES ? raw[FLAGS_AT]! : -1;
  const deleted = (flags & FLAG_DELETED) !== 0;
  if (flags < 0 || flags > 7 || raw.length !== (deleted ? TOMBSTONE_LEAF_BYTES : LIVE_LEAF_BYTES) || origin === '') {
    throw new ReplicationError('bad_leaf', `leaf of key ${JSON.stringify(key)} is not in store format v4`);
  }
  return {
    stamp: { hlc: hlcText(raw, HLC_AT), origin, hash: deleted ? '' : raw.toString('hex', HASH_AT, LIVE_LEAF_BYTES), deleted },
    contentType: (flags & FLAG_BINARY) !== 0 || deleted ? 'binary' : 'json',
    version: readUInt56(raw, VERSION_AT),
    updatedAt: readUInt56(raw, UPDATED_AT),
    hasTrace: !deleted && (flags & FLAG_TRACE) !== 0,
  };
}

/** Whether a stored leaf is a live record with content hash `hash` (no origin needed). */
export function leafHoldsHash(raw: Buffer, hash: string): boolean {
  return raw.length === LIVE_LEAF_BYTES && (raw[FLAGS_AT]! & FLAG_DELETED) === 0 && raw.toString('hex', HASH_AT) === hash;
}

/**
 * A change's leaf as apply.lua gets it: all of it but the origin id, which only the store knows
 * (the script puts it in front). A DEL's version is written as 0 (apply.lua puts in the deleted
 * record's, which only the store knows). The fields are validated (model/validate-change.ts).
 */
export function leafWithoutOrigin(c: Change): Buffer {
  const out = Buffer.allocUnsafe(leafWithoutOriginBytes(c));
  writeLeafWithoutOrigin(out, 0, c);
  return out;
}

/** The length of leafWithoutOrigin(c). */
export function leafWithoutOriginBytes(c: Change): number {
  return (c.op === 'DEL' ? TOMBSTONE_LEAF_BYTES : LIVE_LEAF_BYTES) - ORIGIN_ID_BYTES;
}

/** Writes leafWithoutOrigin(c) into `out` at `at` (the packed arguments: no buffer per change); the offset after it. */
export function writeLeafWithoutOrigin(out: Buffer, at: number, c: Change): number {
  const base = at - ORIGIN_ID_BYTES; // offsets below are the stored leaf's, which starts with the origin id
  let flags = c.op === 'DEL' ? FLAG_DELETED : 0;
  if (c.op === 'PUT') {
    if (c.contentType === 'binary') flags |= FLAG_BINARY;
    if (c.traceParent) flags |= FLAG_TRACE;
  }
  out[base + FLAGS_AT] = flags;
  writeHlc(out, base + HLC_AT, c.hlc);
  writeUInt56(out, base + VERSION_AT, c.op === 'PUT' ? c.version : 0);
  writeUInt56(out, base + UPDATED_AT, c.updatedAt);
  if (c.op === 'PUT') out.write(c.hash, base + HASH_AT, 'hex');
  return at + leafWithoutOriginBytes(c);
}

// 7-byte integers (Buffer's own stop at 6): every safe integer fits.
function writeUInt56(out: Buffer, at: number, value: number): void {
  out.writeUIntBE(Math.floor(value / 2 ** 32), at, 3);
  out.writeUInt32BE(value % 2 ** 32, at + 3);
}

function readUInt56(raw: Buffer, at: number): number {
  return raw.readUIntBE(at, 3) * 2 ** 32 + raw.readUInt32BE(at + 3);
}

/** The 10-byte stamp: digits 1-7, 8-16 and the logical counter (hlc is validated: 16 digits, '-', 5 digits). */
function writeHlc(out: Buffer, at: number, hlc: string): void {
  out.writeUIntBE(digits(hlc, 0, 7), at, 3);
  out.writeUInt32BE(digits(hlc, 7, 16), at + 3);
  out.writeUIntBE(digits(hlc, 17, 22), at + 7, 3);
}

/** The decimal number in s[from, to) (validated digits): no substring, no parse. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

function hlcText(raw: Buffer, at: number): string {
  const hi = String(raw.readUIntBE(at, 3)).padStart(7, '0');
  const lo = String(raw.readUInt32BE(at + 3)).padStart(9, '0');
  const logical = String(raw.readUIntBE(at + 7, 3)).padStart(5, '0');
  return `${hi}${lo}-${logical}`;
}

/** A valid trace parent's 26 bytes (what the record keeps after its content). */
export function traceBytes(traceParent: string): Buffer {
  return Buffer.from(traceParent.replaceAll('-', ''), 'hex');
}

/** The trace parent kept in 26 bytes, as text; null when it is not a valid one (W3C: then ignored). */
export function traceText(raw: Buffer): string | null {
  if (raw.length !== TRACE_BYTES) return null;
  const hex = raw.toString('hex');
  const text = `${hex.slice(0, 2)}-${hex.slice(2, 34)}-${hex.slice(34, 50)}-${hex.slice(50)}`;
  return isTraceParent(text) ? text : null;
}

/**
 * A record as a change, from its leaf and (live records) its stored value: the content, then the
 * trace parent's 26 bytes when the leaf says so. A trace parent that is not valid (a peer's store
 * is input) is left out, as W3C says an invalid one is ignored: the change itself is still good.
 */
export function leafToChange(key: string, leaf: StoredLeaf, value: Buffer | null): Change {
  const { hlc, origin, hash, deleted } = leaf.stamp;
  if (deleted) return { op: 'DEL', key, hlc, origin, updatedAt: leaf.updatedAt };
  const stored = value ?? Buffer.alloc(0);
  const traced = leaf.hasTrace && stored.length >= TRACE_BYTES;
  const traceParent = traced ? traceText(stored.subarray(stored.length - TRACE_BYTES)) : null;
  return {
    op: 'PUT',
    key,
    hlc,
    origin,
    updatedAt: leaf.updatedAt,
    content: traced ? stored.subarray(0, stored.length - TRACE_BYTES) : stored,
    hash,
    contentType: leaf.contentType,
    version: leaf.version,
    ...(traceParent ? { traceParent } : {}),
  };
}
