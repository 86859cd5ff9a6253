// The contracts the fuzz targets check, one function per target, shared with the regression-corpus replay
// (test/unit/fuzz/corpus.test.ts): a corpus input is checked by exactly the code that once failed on it.
// Each checker throws (an AssertionError-like Error) when the contract is broken, and returns normally otherwise.
import { createHash } from 'node:crypto';
import { decodeCdcEntry, encodeCdcEntry, type DecodeOptions } from '../../src/cdc/codec.js';
import { CdcDecodeError } from '../../src/cdc/decode-error.js';
import {
  compareStreamIds, formatStreamId, isStreamId, parseStreamId, StreamIdError, streamIdLagMs, streamIdMs, successorStreamId,
} from '../../src/cdc/stream-id.js';
import { ConfigError } from '../../src/config/config-error.js';
import { substituteString, type Env } from '../../src/config/env.js';
import { parseConfigText } from '../../src/config/load.js';
import { parseConfig, validateConfig } from '../../src/config/parse.js';
import { ValidationError } from '../../src/errors.js';
import { detectGap, type StreamInfo } from '../../src/hot-path/gap.js';
import {
  isJsonDocument, matchRoute, MAX_LIST_LIMIT, parseBearer, parseContentLength, parseContentType, parseItemPath, parseListQuery,
  parseQueryString, parseRequestTarget,
} from '../../src/http/parse.js';
import type { CdcEntry } from '../../src/model/change.js';
import { isHlc } from '../../src/model/hlc.js';
import { assertValidKey, MAX_KEY_BYTES } from '../../src/model/key.js';
import { isNodeId } from '../../src/model/node-id.js';

export class ContractError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContractError';
  }
}

function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ContractError(message);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : `non-error thrown: ${String(err)}`;
}

/** Runs `fn`; any throw that is not an instance of `allowed` (or fails `accept`) breaks the contract. */
function onlyThrows<T>(what: string, allowed: abstract new (...args: never[]) => Error, fn: () => T, accept: (err: Error) => boolean = () => true): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ContractError) throw err;
    if (!(err instanceof allowed) || !accept(err)) throw new ContractError(`${what} threw ${describe(err)} (only ${allowed.name} is allowed)`, { cause: err });
    return undefined;
  }
}

// ── CDC decoder ─────────────────────────────────────────────────────────────────────────────────────────

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * `decodeCdcEntry` throws nothing but CdcDecodeError — and not one that merely wraps an error the decoder did
 * not expect (its "unexpected error" safety net, which would hide a bug behind a generic rejection). What it
 * accepts is a change the store would take: valid key and stamp, hash matching the content, within limits;
 * and encoding that change again decodes to the same change.
 */
export function checkCdcDecode(id: unknown, fields: unknown, options: DecodeOptions = {}): CdcEntry | undefined {
  const decoded = onlyThrows('decodeCdcEntry', CdcDecodeError, () => decodeCdcEntry(id as string, fields as Buffer[], options), (err) => !/unexpected error/.test(err.message));
  if (decoded === undefined) return undefined;
  ensure(decoded.id === id, `decoded id ${decoded.id} differs from ${String(id)}`);
  ensure(isHlc(decoded.hlc), `decoded hlc ${decoded.hlc} is not an HLC`);
  ensure(isNodeId(decoded.origin), `decoded origin ${decoded.origin} is not a node id`);
  ensure(Number.isSafeInteger(decoded.updatedAt) && decoded.updatedAt >= 0, `decoded updatedAt ${decoded.updatedAt}`);
  onlyThrows('assertValidKey(decoded key)', ContractError, () => assertValidKey(decoded.key));
  if (decoded.op === 'PUT') {
    ensure(sha256(decoded.content) === decoded.hash, 'decoded PUT: hash does not match the content');
    ensure(decoded.content.length <= (options.maxPayloadBytes ?? 16 * 1024 * 1024), `decoded PUT: content of ${decoded.content.length} bytes passes the limit`);
    ensure(decoded.contentType === 'json' || decoded.contentType === 'binary', `decoded content type ${decoded.contentType}`);
    ensure(Number.isSafeInteger(decoded.version) && decoded.version >= 0, `decoded version ${decoded.version}`);
  } else {
    ensure(decoded.op === 'DEL', `decoded op ${String((decoded as { op: unknown }).op)}`);
  }
  // decode ∘ encode is the identity on what the decoder accepts.
  const { id: _id, ...change } = decoded;
  const again = decodeCdcEntry(decoded.id, encodeCdcEntry(change), options);
  ensure(sameEntry(decoded, again), 'a decoded entry, encoded again, decodes differently');
  return decoded;
}

function sameEntry(a: CdcEntry, b: CdcEntry): boolean {
  // A DEL's trace_parent is accepted but not part of the DEL wire format (docs/wire-format.md): not carried.
  const drop = (e: CdcEntry): CdcEntry => (e.op === 'DEL' ? (({ traceParent: _t, ...rest }) => rest)(e) : e);
  const norm = (e: CdcEntry): string => JSON.stringify(drop(e), (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? sha256(Buffer.from((v as { data: number[] }).data)) : v));
  return norm(a) === norm(b);
}

// ── stream ids ──────────────────────────────────────────────────────────────────────────────────────────

/** Any string: parses to u64 parts that format back to an equal id, or throws StreamIdError; same for every helper. */
export function checkStreamIdText(text: unknown): void {
  const parsed = onlyThrows('parseStreamId', StreamIdError, () => parseStreamId(text as string));
  ensure((parsed !== undefined) === isStreamId(text as string), `isStreamId disagrees with parseStreamId on ${JSON.stringify(text)}`);
  if (parsed === undefined) {
    for (const [name, fn] of [
      ['successorStreamId', () => successorStreamId(text as string)],
      ['streamIdMs', () => streamIdMs(text as string)],
      ['compareStreamIds', () => compareStreamIds(text as string, '0-0')],
      ['streamIdLagMs', () => streamIdLagMs('0-0', text as string)],
    ] as const) {
      let threw = false;
      onlyThrows(name, StreamIdError, () => {
        try {
          fn();
        } catch (err) {
          threw = true;
          throw err;
        }
      });
      ensure(threw, `${name} accepted the malformed id ${JSON.stringify(text)}`);
    }
    return;
  }
  ensure(parsed.ms >= 0n && parsed.ms < 1n << 64n && parsed.seq >= 0n && parsed.seq < 1n << 64n, `parts out of range for ${String(text)}`);
  const canonical = formatStreamId(parsed);
  ensure(compareStreamIds(canonical, text as string) === 0, `${String(text)} and its canonical form ${canonical} compare unequal`);
}

/** Valid ids: compare is a total order consistent with (ms, seq); successor is the least greater id; lag ≥ 0. */
export function checkStreamIdOrder(a: string, b: string, c: string): void {
  const ab = compareStreamIds(a, b);
  const ba = compareStreamIds(b, a);
  ensure(ab === -ba || (ab === 0 && ba === 0), `compare(${a},${b}) = ${ab} but compare(${b},${a}) = ${ba}`);
  ensure(compareStreamIds(a, a) === 0, `compare(${a},${a}) ≠ 0`);
  if (ab <= 0 && compareStreamIds(b, c) <= 0) ensure(compareStreamIds(a, c) <= 0, `not transitive: ${a} ≤ ${b} ≤ ${c}`);
  const pa = parseStreamId(a);
  const pb = parseStreamId(b);
  const expected = pa.ms !== pb.ms ? (pa.ms < pb.ms ? -1 : 1) : pa.seq !== pb.seq ? (pa.seq < pb.seq ? -1 : 1) : 0;
  ensure(ab === expected, `compare(${a},${b}) = ${ab}, numeric order says ${expected}`);

  const lag = streamIdLagMs(a, b);
  ensure(Number.isFinite(lag) && lag >= 0, `lag(${a},${b}) = ${lag}`);
  ensure(lag === (pb.ms > pa.ms ? Number(pb.ms - pa.ms) : 0), `lag(${a},${b}) = ${lag}`);

  let succ: string | undefined;
  onlyThrows('successorStreamId', StreamIdError, () => (succ = successorStreamId(a)), (err) => (err as StreamIdError).code === 'stream_id_overflow' && a === '18446744073709551615-18446744073709551615');
  if (succ !== undefined) {
    ensure(compareStreamIds(succ, a) > 0, `successor(${a}) = ${succ} is not greater`);
    // Nothing lies strictly between an id and its successor.
    if (compareStreamIds(b, a) > 0) ensure(compareStreamIds(b, succ) >= 0, `${b} lies between ${a} and its successor ${succ}`);
  }
}

/** detectGap over well-formed stream metadata never throws, and never reports a gap when the cursor is at the head. */
export function checkDetectGap(cursor: string, info: StreamInfo | null): void {
  const gap = onlyThrows('detectGap', ContractError, () => detectGap(cursor, info));
  ensure(gap === null || gap === 'trimmed' || gap === 'peer_behind', `detectGap returned ${String(gap)}`);
  if (info !== null && info.length > 0 && info.firstEntryId !== null && compareStreamIds(info.firstEntryId, cursor) <= 0 &&
    compareStreamIds(info.lastGeneratedId, cursor) >= 0 && (info.maxDeletedId === null || compareStreamIds(info.maxDeletedId, cursor) <= 0)) {
    ensure(gap === null, `gap ${gap} reported though the cursor ${cursor} is inside the stream ${JSON.stringify(info)}`);
  }
}

// ── configuration ───────────────────────────────────────────────────────────────────────────────────────

function checkParsedConfig(config: { local_node_id: string; peers: { node_id: string }[] }): void {
  ensure(isNodeId(config.local_node_id), `accepted local_node_id ${config.local_node_id}`);
  const ids = config.peers.map((p) => p.node_id);
  ensure(new Set(ids).size === ids.length, 'accepted duplicate peer ids');
  ensure(!ids.includes(config.local_node_id), 'accepted a peer equal to the local node');
}

/** parseConfig / validateConfig on any value: ConfigError only; validateConfig never throws. */
export function checkConfigObject(input: unknown): void {
  const validated = onlyThrows('validateConfig', ContractError, () => validateConfig(input));
  const parsed = onlyThrows('parseConfig', ConfigError, () => parseConfig(input));
  ensure((parsed !== undefined) === validated?.ok, 'parseConfig and validateConfig disagree');
  if (parsed !== undefined) checkParsedConfig(parsed);
  else if (validated && !validated.ok) ensure(validated.issues.length > 0, 'refused without an issue');
}

/** parseConfigText on any text (and any environment): ConfigError only, every issue with a message. */
export function checkConfigText(text: string, env: Env = {}): void {
  let refused: ConfigError | undefined;
  const parsed = onlyThrows('parseConfigText', ConfigError, () => {
    try {
      return parseConfigText(text, { source: 'fuzz.yaml', env });
    } catch (err) {
      if (err instanceof ConfigError) refused = err;
      throw err;
    }
  });
  if (parsed !== undefined) checkParsedConfig(parsed);
  if (refused) {
    ensure(refused.issues.length > 0, 'ConfigError without issues');
    for (const issue of refused.issues) ensure(typeof issue.message === 'string' && issue.message.length > 0, 'an issue without a message');
  }
  for (const value of [text, ...Object.values(env)]) {
    if (value !== undefined) onlyThrows('substituteString', ContractError, () => substituteString(value, env));
  }
}

// ── HTTP request parsing ────────────────────────────────────────────────────────────────────────────────

export type HttpParser =
  | 'parseRequestTarget' | 'matchRoute' | 'parseItemPath' | 'parseQueryString' | 'parseListQuery' | 'parseContentType' | 'parseBearer'
  | 'parseContentLength' | 'isJsonDocument';

/** One pure HTTP parser on one input: a value or a ValidationError, and the value is well formed. */
export function checkHttpParser(parser: HttpParser, input: string): void {
  switch (parser) {
    case 'parseRequestTarget': {
      const t = onlyThrows(parser, ValidationError, () => parseRequestTarget(input));
      if (t) ensure(t.path.length > 0 && !t.path.includes('?'), `parseRequestTarget(${JSON.stringify(input)}) → ${JSON.stringify(t)}`);
      if (t) checkHttpParser('matchRoute', t.path);
      if (t) checkHttpParser('parseListQuery', t.query);
      return;
    }
    case 'matchRoute': {
      const m = onlyThrows(parser, ValidationError, () => matchRoute(input));
      if (m && m.route === 'item') checkKey(m.key, input);
      return;
    }
    case 'parseItemPath': {
      const key = onlyThrows(parser, ValidationError, () => parseItemPath(input));
      if (typeof key === 'string') {
        checkKey(key, input);
        // Round trip: the canonical encoding of the key names the same key.
        ensure(parseItemPath(`/v1/items/${encodeURIComponent(key)}`) === key, `key ${JSON.stringify(key)} does not round-trip`);
      }
      return;
    }
    case 'parseQueryString': {
      const q = onlyThrows(parser, ValidationError, () => parseQueryString(input));
      if (q) for (const [k, v] of q) ensure(typeof k === 'string' && typeof v === 'string', 'non-string parameter');
      return;
    }
    case 'parseListQuery': {
      const q = onlyThrows(parser, ValidationError, () => parseListQuery(input));
      if (q) {
        ensure(Number.isInteger(q.limit) && q.limit >= 1 && q.limit <= MAX_LIST_LIMIT, `limit ${q.limit}`);
        ensure(q.cursor === null || /^[A-Za-z0-9_-]+$/.test(q.cursor), `cursor ${q.cursor}`);
        ensure(q.prefix.isWellFormed(), 'prefix is not well-formed');
      }
      return;
    }
    case 'parseContentType': {
      const t = onlyThrows(parser, ContractError, () => parseContentType(input));
      ensure(t === 'json' || t === 'binary', `content type ${String(t)}`);
      return;
    }
    case 'parseBearer': {
      const token = onlyThrows(parser, ContractError, () => parseBearer(input));
      if (token !== null && token !== undefined) ensure(token.length > 0 && !/\s/.test(token), `token ${JSON.stringify(token)}`);
      return;
    }
    case 'parseContentLength': {
      const n = onlyThrows(parser, ContractError, () => parseContentLength(input));
      if (n !== null && n !== undefined) ensure(Number.isFinite(n) && n >= 0, `content length ${n}`);
      return;
    }
    case 'isJsonDocument': {
      const ok = onlyThrows(parser, ContractError, () => isJsonDocument(Buffer.from(input, 'utf8')));
      ensure(typeof ok === 'boolean', 'isJsonDocument returned a non-boolean');
      return;
    }
  }
}

function checkKey(key: string, from: string): void {
  ensure(key.length > 0 && key.isWellFormed() && Buffer.byteLength(key) <= MAX_KEY_BYTES, `bad key ${JSON.stringify(key)} from ${JSON.stringify(from)}`);
}
