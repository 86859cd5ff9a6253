/**
 * The `meta` field of a CDC entry: a JSON object whose key order is fixed (docs/wire-format.md,
 * docs/wire-format.md) so that the TypeScript writer, the store's Lua writer and the
 * Rust sync-engine produce identical bytes for identical changes.
 *
 * PUT: content_type, version, updated_at, trace_parent (only when set), hlc, origin
 * DEL: hlc, origin, updated_at
 *
 * `hlc`/`origin` are this project's additions; the Rust writer omits them, and the codec
 * derives a stamp instead (see codec.ts). Unknown keys are ignored for forward compatibility.
 */
import { CONTENT_TYPES, type ContentType, type DelChange, type PutChange } from '../model/change.js';
import { hlcProblem, isHlc } from '../model/hlc.js';
import { isNodeId } from '../model/node-id.js';
import type { Stamp } from '../model/stamp.js';
import { isTraceParent } from '../model/trace-parent.js';
import { CdcDecodeError } from './decode-error.js';

export interface PutMeta {
  contentType: ContentType;
  version: number;
  updatedAt: number;
  traceParent?: string;
  /** A trace_parent was present but invalid, and was dropped (W3C: ignore an invalid traceparent). */
  traceParentDropped?: true;
  /** Absent when the writer sent no stamp (a Rust sync-engine entry). */
  stamp?: Stamp;
}

export interface DelMeta {
  updatedAt?: number;
  traceParent?: string;
  traceParentDropped?: true;
  stamp?: Stamp;
}

/**
 * The meta JSON, written out directly rather than through JSON.stringify of an object (three
 * times faster; it runs for every re-emitted change). That yields the same bytes only because
 * nothing needs escaping: the change must be valid (model/validate-change.ts: a content type
 * from the enum, integers, an HLC, a node id and a traceparent, none with a quote, backslash or
 * control character). Every caller passes validated changes (encodeCdcEntry checks first).
 */
export function formatPutMeta(change: PutChange): string {
  const trace = change.traceParent === undefined ? '' : `,"trace_parent":"${change.traceParent}"`;
  return `{"content_type":"${change.contentType}","version":${change.version},"updated_at":${change.updatedAt}${trace},"hlc":"${change.hlc}","origin":"${change.origin}"}`;
}

/** As formatPutMeta: the change must be valid. */
export function formatDelMeta(change: DelChange): string {
  return `{"hlc":"${change.hlc}","origin":"${change.origin}","updated_at":${change.updatedAt}}`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

type JsonObject = Record<string, unknown>;

function parseObject(raw: Buffer, entryId: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(strictUtf8.decode(raw));
  } catch (cause) {
    throw new CdcDecodeError('bad_meta', entryId, 'meta is not UTF-8 JSON', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CdcDecodeError('bad_meta', entryId, 'meta is not a JSON object');
  }
  return value as JsonObject;
}

/** Present and not null: a serializer may write an unset optional as `null`. */
function has(meta: JsonObject, name: string): boolean {
  return Object.hasOwn(meta, name) && meta[name] !== null;
}

function nonNegativeInteger(meta: JsonObject, name: string, entryId: string): number {
  const value = meta[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new CdcDecodeError('bad_meta', entryId, `meta.${name} must be a non-negative safe integer`);
  }
  return value;
}

/**
 * The trace context, or 'dropped' when it is present but not a valid traceparent: W3C Trace
 * Context says a receiver ignores an invalid traceparent, and the change it rides on is still
 * good (rejecting it would leave a Rust peer's change, which the cold path cannot read, never
 * replicated). The caller counts the drop.
 */
function traceParent(meta: JsonObject): string | 'dropped' | undefined {
  if (!has(meta, 'trace_parent')) return undefined;
  const value = meta['trace_parent'];
  return typeof value === 'string' && isTraceParent(value) ? value : 'dropped';
}

function addTrace(result: PutMeta | DelMeta, meta: JsonObject): void {
  const trace = traceParent(meta);
  if (trace === 'dropped') result.traceParentDropped = true;
  else if (trace !== undefined) result.traceParent = trace;
}

/** Both hlc and origin, or neither (derived later); one without the other is a broken writer. */
function stamp(meta: JsonObject, entryId: string): Stamp | undefined {
  const hasHlc = has(meta, 'hlc');
  const hasOrigin = has(meta, 'origin');
  if (!hasHlc && !hasOrigin) return undefined;
  if (hasHlc !== hasOrigin) {
    throw new CdcDecodeError('bad_stamp', entryId, 'meta has one of hlc/origin without the other');
  }
  const hlc = meta['hlc'];
  const origin = meta['origin'];
  if (typeof hlc !== 'string' || !isHlc(hlc)) {
    throw new CdcDecodeError('bad_stamp', entryId, `meta.hlc ${hlcProblem(hlc)}`);
  }
  if (typeof origin !== 'string' || !isNodeId(origin)) {
    throw new CdcDecodeError('bad_stamp', entryId, 'meta.origin is not a node id');
  }
  return { hlc, origin };
}

export function parsePutMeta(raw: Buffer, entryId: string): PutMeta {
  const meta = parseObject(raw, entryId);
  const contentType = meta['content_type'];
  if (typeof contentType !== 'string' || !(CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new CdcDecodeError('bad_meta', entryId, `meta.content_type must be one of ${CONTENT_TYPES.join(', ')}`);
  }
  const result: PutMeta = {
    contentType: contentType as ContentType,
    version: nonNegativeInteger(meta, 'version', entryId),
    updatedAt: nonNegativeInteger(meta, 'updated_at', entryId),
  };
  addTrace(result, meta);
  const parsedStamp = stamp(meta, entryId);
  if (parsedStamp !== undefined) result.stamp = parsedStamp;
  return result;
}

export function parseDelMeta(raw: Buffer, entryId: string): DelMeta {
  const meta = parseObject(raw, entryId);
  const result: DelMeta = {};
  if (has(meta, 'updated_at')) result.updatedAt = nonNegativeInteger(meta, 'updated_at', entryId);
  addTrace(result, meta);
  const parsedStamp = stamp(meta, entryId);
  if (parsedStamp !== undefined) result.stamp = parsedStamp;
  return result;
}
