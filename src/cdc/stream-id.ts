/**
 * Redis stream entry ids `ms-seq`, both parts unsigned 64-bit. Parts are bigints so ids
 * past 2^53 compare and step exactly; parsing is strict so a malformed id can never
 * silently become `0-0` and replay a stream from its start.
 */
import { ReplicationError } from '../errors.js';

export const STREAM_START = '0-0';

const U64_MAX = (1n << 64n) - 1n;
const STREAM_ID_PATTERN = /^(\d+)-(\d+)$/;

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export class StreamIdError extends ReplicationError {
  constructor(message: string, code = 'invalid_stream_id') {
    super(code, message);
  }
}

export function parseStreamId(value: string): StreamId {
  const match = typeof value === 'string' ? STREAM_ID_PATTERN.exec(value) : null;
  if (match === null) {
    // Not String(value): an untyped caller may pass an object whose conversion throws (null prototype,
    // a non-callable toString), and this must stay a StreamIdError.
    const shown = typeof value === 'string' ? `"${value.slice(0, 64)}"` : `a ${value === null ? 'null' : typeof value}`;
    throw new StreamIdError(`${shown} is not a stream id (expected <ms>-<seq>)`);
  }
  const ms = BigInt(match[1] ?? '');
  const seq = BigInt(match[2] ?? '');
  if (ms > U64_MAX || seq > U64_MAX) throw new StreamIdError(`"${value}" is out of range (parts are unsigned 64-bit)`);
  return { ms, seq };
}

export function isStreamId(value: string): boolean {
  try {
    parseStreamId(value);
    return true;
  } catch {
    return false;
  }
}

export function formatStreamId(id: StreamId): string {
  if (id.ms < 0n || id.ms > U64_MAX || id.seq < 0n || id.seq > U64_MAX) {
    throw new StreamIdError(`${id.ms}-${id.seq} is out of range (parts are unsigned 64-bit)`);
  }
  return `${id.ms}-${id.seq}`;
}

function compareParsed(a: StreamId, b: StreamId): -1 | 0 | 1 {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/** Numeric (ms, seq) order; string order is wrong here ('10-0' < '9-0'). */
export function compareStreamIds(a: string, b: string): -1 | 0 | 1 {
  return compareParsed(parseStreamId(a), parseStreamId(b));
}

/** The least id greater than `id` (what XREAD's exclusive start needs for "after this"). */
export function successorStreamId(id: string): string {
  const { ms, seq } = parseStreamId(id);
  if (seq < U64_MAX) return formatStreamId({ ms, seq: seq + 1n });
  if (ms < U64_MAX) return formatStreamId({ ms: ms + 1n, seq: 0n });
  throw new StreamIdError(`${id} is the greatest stream id; it has no successor`, 'stream_id_overflow');
}

/** The id's milliseconds as a number (exact below 2^53, i.e. for any real clock). */
export function streamIdMs(id: string): number {
  return Number(parseStreamId(id).ms);
}

/** How far `to` is ahead of `from`, in milliseconds; 0 when it is not ahead. */
export function streamIdLagMs(from: string, to: string): number {
  const diff = parseStreamId(to).ms - parseStreamId(from).ms;
  return diff > 0n ? Number(diff) : 0;
}
