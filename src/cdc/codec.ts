/**
 * CDC stream entries (docs/wire-format.md): encoding a change into XADD's
 * flat field list, and decoding what XREAD returns back into a change. The decoder is
 * the trust boundary for everything a peer (or a Rust sync-engine) writes, so it checks
 * every field and throws nothing but CdcDecodeError: the hot path counts and skips a
 * rejected entry and moves on.
 */
import { ValidationError, errorMessage } from '../errors.js';
import type { CdcEntry, Change, DelChange, PutChange } from '../model/change.js';
import { formatHlc } from '../model/hlc.js';
import { decodeKeyBytes } from '../model/key.js';
import { isNodeId } from '../model/node-id.js';
import type { Stamp } from '../model/stamp.js';
import { compressForWire, decompressBounded, DEFAULT_MAX_PAYLOAD_BYTES, startsWithZstdMagic, zstdCompressBound } from './compression.js';
import { isSha256Hex, sha256Hex } from '../model/content-hash.js';
import { CdcDecodeError, type CdcRejectReason } from './decode-error.js';
import { formatDelMeta, formatPutMeta, parseDelMeta, parsePutMeta } from './meta.js';
import { parseStreamId, type StreamId } from './stream-id.js';
import { assertValidChange } from '../model/validate-change.js';

export interface DecodeOptions {
  /** The node whose stream this is: the origin of entries that carry no stamp (Rust writers). */
  peerNodeId?: string;
  /** Largest content accepted, raw or after decompression. Default 16 MiB. */
  maxPayloadBytes?: number;
}

/**
 * The flat `[name, value, …]` list for XADD, in wire order. Throws a ValidationError for a change
 * the store would refuse: peers would reject the entry, and its meta could not be written.
 */
export function encodeCdcEntry(change: Change, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES): Buffer[] {
  assertValidChange(change, 'change', maxPayloadBytes);
  if (change.op === 'PUT') {
    return [
      Buffer.from('op'), Buffer.from('PUT'),
      Buffer.from('key'), Buffer.from(change.key, 'utf8'),
      Buffer.from('hash'), Buffer.from(change.hash),
      Buffer.from('data'), change.wireData ?? compressForWire(change.content),
      Buffer.from('meta'), Buffer.from(formatPutMeta(change), 'utf8'),
    ];
  }
  return [
    Buffer.from('op'), Buffer.from('DEL'),
    Buffer.from('key'), Buffer.from(change.key, 'utf8'),
    Buffer.from('meta'), Buffer.from(formatDelMeta(change), 'utf8'),
  ];
}

/**
 * Decodes one entry as ioredis `xreadBuffer` returns it (`fields` flat, names and values
 * alternating). Fields are looked up by name — the first occurrence wins, unknown names
 * are ignored — so a writer may add fields without breaking readers.
 */
export function decodeCdcEntry(
  id: string,
  fields: readonly (Buffer | string)[],
  options: DecodeOptions = {},
): CdcEntry {
  return decodeEntry(id, fields, options ?? {}, undefined) as CdcEntry;
}

/** Why the hot path skips an entry it decoded only the meta of (see decodePeerCdcEntry). */
export type PeerEntrySkip = 'own_origin' | 'seen';

export interface PeerDecodeOptions extends DecodeOptions {
  /** This node: entries stamped with it are our own changes coming back around the mesh. */
  localNodeId: string;
  /** True when the local store is known to hold `key` at this stamp or a later one. */
  seen?: (key: string, stamp: Stamp) => boolean;
}

/**
 * As decodeCdcEntry, for the hot path of node `localNodeId`. An entry that would change nothing
 * is skipped as soon as its meta is read, without decompressing or hashing its content:
 * 'own_origin' when stamped with this node (our own change coming back around the mesh,
 * docs/wire-format.md), 'seen' when `options.seen` says the local store already holds the key at that stamp or a
 * later one (a copy re-emitted by another peer). In a mesh every node re-emits what it applies,
 * so such entries are a large share of what a node reads.
 */
export function decodePeerCdcEntry(
  id: string,
  fields: readonly (Buffer | string)[],
  options: PeerDecodeOptions,
): CdcEntry | PeerEntrySkip {
  return decodeEntry(id, fields, options, options) as CdcEntry | PeerEntrySkip;
}

function decodeEntry(id: string, fields: readonly (Buffer | string)[], options: DecodeOptions, peer: PeerDecodeOptions | undefined): CdcEntry | PeerEntrySkip {
  // Only a string can be an entry id; anything else becomes '' and is rejected as bad_entry_id.
  const entryId = typeof id === 'string' ? id : '';
  const decoder = new EntryDecoder(entryId, options, peer);
  try {
    return decoder.decode(fields);
  } catch (cause) {
    if (cause instanceof CdcDecodeError) {
      // Errors from helpers that do not know the entry id get it here.
      if (cause.entryId === entryId) throw cause;
      throw new CdcDecodeError(cause.reason, entryId, cause.message, { cause });
    }
    // Anything else is a bug or a hostile input we did not foresee: still a rejection of
    // this entry, attributed to the step that was running.
    const message = errorMessage(cause);
    throw new CdcDecodeError(decoder.stage, entryId, `unexpected error: ${message}`, { cause });
  }
}

class EntryDecoder {
  /** The reject reason that applies to the step in progress. */
  stage: CdcRejectReason = 'bad_entry_id';
  private readonly id: string;
  private readonly options: DecodeOptions;
  /** The hot path's skips (decodePeerCdcEntry), decided before the content is touched. */
  private readonly peer: PeerDecodeOptions | undefined;

  constructor(id: string, options: DecodeOptions, peer: PeerDecodeOptions | undefined) {
    this.id = id;
    this.options = options;
    this.peer = peer;
  }

  decode(fields: readonly (Buffer | string)[]): CdcEntry | PeerEntrySkip {
    this.checkId();
    this.stage = 'missing_field';
    const byName = this.fieldMap(fields);
    const op = this.required(byName, 'op').toString('latin1');
    if (op !== 'PUT' && op !== 'DEL') {
      this.stage = 'unknown_op';
      throw this.reject('unknown_op', `op "${op.slice(0, 32)}" is neither PUT nor DEL`);
    }
    const rawKey = this.required(byName, 'key');
    this.stage = 'bad_key';
    const key = this.key(rawKey);
    return op === 'PUT' ? this.put(key, byName) : this.del(key, byName);
  }

  private put(key: string, byName: Fields): CdcEntry | PeerEntrySkip {
    this.stage = 'missing_field';
    const hashField = this.required(byName, 'hash');
    const data = this.required(byName, 'data');
    const rawMeta = this.required(byName, 'meta');

    this.stage = 'bad_meta';
    const meta = parsePutMeta(rawMeta, this.id);
    this.stage = 'bad_stamp';
    const stamp = meta.stamp ?? this.derivedStamp(meta.updatedAt);
    const skip = this.skip(key, stamp);
    if (skip) return skip;

    this.stage = 'bad_hash';
    const hash = hashField.toString('latin1');
    if (!isSha256Hex(hash)) throw this.reject('bad_hash', 'hash is not 64 lowercase hex digits');

    this.stage = 'bad_zstd';
    const content = this.content(data);
    this.stage = 'bad_hash';
    if (sha256Hex(content) !== hash) throw this.reject('bad_hash', 'hash does not match the content');

    const change: PutChange & { id: string } = {
      id: this.id,
      op: 'PUT',
      key,
      content,
      hash,
      contentType: meta.contentType,
      version: meta.version,
      updatedAt: meta.updatedAt,
      hlc: stamp.hlc,
      origin: stamp.origin,
      wireData: data,
    };
    if (meta.traceParent !== undefined) change.traceParent = meta.traceParent;
    if (meta.traceParentDropped) (change as CdcEntry).traceParentDropped = true;
    return change;
  }

  private del(key: string, byName: Fields): CdcEntry | PeerEntrySkip {
    this.stage = 'bad_meta';
    const rawMeta = byName.meta;
    // The Rust writer sends only op and key for a delete.
    const meta = rawMeta === undefined ? {} : parseDelMeta(rawMeta, this.id);
    this.stage = 'bad_entry_id';
    const updatedAt = meta.updatedAt ?? this.entryMs(this.parseId());
    this.stage = 'bad_stamp';
    const stamp = meta.stamp ?? this.derivedStamp(updatedAt);
    const skip = this.skip(key, stamp);
    if (skip) return skip;
    const change: DelChange & { id: string } = { id: this.id, op: 'DEL', key, updatedAt, hlc: stamp.hlc, origin: stamp.origin };
    if (meta.traceParent !== undefined) change.traceParent = meta.traceParent;
    if (meta.traceParentDropped) (change as CdcEntry).traceParentDropped = true;
    return change;
  }

  private skip(key: string, stamp: Stamp): PeerEntrySkip | null {
    if (this.peer === undefined) return null;
    if (stamp.origin === this.peer.localNodeId) return 'own_origin';
    if (this.peer.seen?.(key, stamp)) return 'seen';
    return null;
  }

  /**
   * Rejects a malformed entry id. Ids of up to 15 digits per part (every id a clock of this
   * millennium writes) are valid by their shape alone; only others need parseStreamId's exact
   * 64-bit range check (BigInt arithmetic, too slow to do for every entry).
   */
  private checkId(): void {
    if (!SHORT_STREAM_ID.test(this.id)) this.parseId();
  }

  private parseId(): StreamId {
    try {
      return parseStreamId(this.id);
    } catch (cause) {
      throw this.reject('bad_entry_id', `"${this.id.slice(0, 64)}" is not a stream entry id`, cause);
    }
  }

  private entryMs(streamId: StreamId): number {
    if (streamId.ms > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.reject('bad_entry_id', 'entry id milliseconds are out of range for a timestamp');
    }
    return Number(streamId.ms);
  }

  private fieldMap(fields: readonly (Buffer | string)[]): Fields {
    if (!Array.isArray(fields)) throw this.reject('missing_field', 'fields are not a list');
    if (fields.length % 2 !== 0) {
      throw this.reject('missing_field', `fields have odd length ${fields.length}: a name without a value`);
    }
    // A plain object with the five known names, not a Map keyed by every name: this runs for
    // every entry on the hot path.
    const byName: Fields = {};
    for (let i = 0; i < fields.length; i += 2) {
      const name = asBuffer(fields[i]);
      const value = asBuffer(fields[i + 1]);
      if (name === undefined || value === undefined) throw this.reject('missing_field', 'a field is not bytes');
      const known = fieldNameOf(name);
      if (known !== undefined && byName[known] === undefined) byName[known] = value;
    }
    return byName;
  }

  private required(byName: Fields, name: FieldName): Buffer {
    const value = byName[name];
    if (value === undefined) throw this.reject('missing_field', `field "${name}" is missing`);
    return value;
  }

  private key(raw: Buffer): string {
    try {
      return decodeKeyBytes(raw);
    } catch (cause) {
      const detail = cause instanceof ValidationError ? cause.message : 'invalid';
      throw this.reject('bad_key', detail, cause);
    }
  }

  /** Decompress exactly when the data starts with the zstd magic (docs/wire-format.md). */
  private content(data: Buffer): Buffer {
    const maxBytes = this.options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    if (startsWithZstdMagic(data)) {
      // The frame is re-emitted with the content: a frame no writer makes of content within the
      // limit (padded with skippable frames, say) would make the record too large to apply.
      if (data.length > zstdCompressBound(maxBytes)) {
        throw this.reject('too_large', `zstd data is ${data.length} bytes, more than any frame of content within the limit of ${maxBytes}`);
      }
      return decompressBounded(data, maxBytes);
    }
    if (data.length > maxBytes) {
      throw this.reject('too_large', `content is ${data.length} bytes; the limit is ${maxBytes}`);
    }
    return data;
  }

  /** A Rust sync-engine entry: the stamp comes from its time and the peer it was read from. */
  private derivedStamp(updatedAt: number): Stamp {
    const origin = this.options.peerNodeId;
    if (origin === undefined || !isNodeId(origin)) {
      throw this.reject('bad_stamp', 'entry has no hlc/origin and no valid peer node id to derive them from');
    }
    try {
      return { hlc: formatHlc(updatedAt, 0), origin };
    } catch (cause) {
      throw this.reject('bad_stamp', `cannot derive an hlc from updated_at ${updatedAt}`, cause);
    }
  }

  private reject(reason: CdcRejectReason, message: string, cause?: unknown): CdcDecodeError {
    return new CdcDecodeError(reason, this.id, message, cause === undefined ? undefined : { cause });
  }
}

const SHORT_STREAM_ID = /^\d{1,15}-\d{1,15}$/;

/** The fields a reader looks up; any other name is ignored (forward compatibility). */
const FIELD_NAMES = ['op', 'key', 'hash', 'data', 'meta'] as const;
type FieldName = (typeof FIELD_NAMES)[number];
type Fields = Partial<Record<FieldName, Buffer>>;
const FIELD_NAME_BYTES = FIELD_NAMES.map((n) => [n, Buffer.from(n, 'latin1')] as const);

/**
 * Which known field `name` is, compared as bytes (no string is made for a field name), in a
 * JavaScript loop: the names are 2–4 bytes, and Buffer.equals is a native call that costs more than
 * the comparison (0.25 µs per entry in B1's profile).
 */
function fieldNameOf(name: Buffer): FieldName | undefined {
  for (const [field, bytes] of FIELD_NAME_BYTES) {
    if (name.length === bytes.length && sameBytes(name, bytes)) return field;
  }
  return undefined;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function asBuffer(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}
