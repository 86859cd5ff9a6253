/**
 * Pure request parsing for the HTTP API: strings in, values out, no Node objects and no I/O,
 * so a fuzzer can hammer it. Every function returns a value or throws a `ValidationError`
 * (stable `code` + `field`); nothing else escapes.
 */
import { DEFAULTS } from '../defaults.js';
import { ValidationError } from '../errors.js';
import type { ContentType } from '../model/change.js';
import { assertValidKey, type Key } from '../model/key.js';
import { jsonDocumentError } from './json-scan.js';

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_MAX_JSON_DEPTH = DEFAULTS.http.maxJsonDepth;

const ITEM_PATH_PREFIX = '/v1/items/';
// Store cursors are base64url; 2048 chars is well above a 1024-byte key encoded.
const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,2048}$/;
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/;

export type RouteName = 'health' | 'ready' | 'metrics' | 'status' | 'items' | 'item';

export type RouteMatch =
  | { route: Exclude<RouteName, 'item'> }
  | { route: 'item'; key: Key };

export interface RequestTarget {
  /** Raw (still percent-encoded) path, never empty. */
  path: string;
  /** Raw query string without the "?", possibly empty. */
  query: string;
}

export interface ListQuery {
  prefix: string;
  cursor: string | null;
  limit: number;
}

const FIXED_ROUTES: ReadonlyMap<string, Exclude<RouteName, 'item'>> = new Map([
  ['/health', 'health'],
  ['/ready', 'ready'],
  ['/metrics', 'metrics'],
  ['/status', 'status'],
  ['/v1/items', 'items'],
]);

/**
 * Splits a request-target into path and query. Deliberately not WHATWG `URL`: it resolves
 * dot segments (also `%2E%2E`), which would make keys like ".." unreachable or aliased.
 */
export function parseRequestTarget(target: string): RequestTarget {
  // absolute-form (`http://host/path`, RFC 9112 §3.2.2) must be accepted; only path and query matter.
  const absolute = ABSOLUTE_FORM.exec(target);
  const rest = absolute ? target.slice(absolute[0].length) : target;
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  return { path: path === '' ? '/' : path, query: q === -1 ? '' : rest.slice(q + 1) };
}

/** Which route a raw path names, null when none. Throws `invalid_key` for a bad item key. */
export function matchRoute(path: string): RouteMatch | null {
  const fixed = FIXED_ROUTES.get(path);
  if (fixed !== undefined) return { route: fixed };
  const key = parseItemPath(path);
  return key === null ? null : { route: 'item', key };
}

/**
 * `/v1/items/{key}` → the decoded, validated key; null for any other path. The key is one
 * percent-encoded path segment (`/` inside a key travels as `%2F`).
 */
export function parseItemPath(path: string): Key | null {
  if (!path.startsWith(ITEM_PATH_PREFIX)) return null;
  const segment = path.slice(ITEM_PATH_PREFIX.length);
  if (segment.includes('/')) {
    throw new ValidationError('invalid_key', 'key', 'must be a single path segment; encode "/" in a key as %2F');
  }
  return assertValidKey(decodeComponent(segment, 'invalid_key', 'key'), 'key');
}

/** `a=1&b=2` → name → value. `+` is a space (form encoding); a repeated name is refused as ambiguous. */
export function parseQueryString(query: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent((eq === -1 ? pair : pair.slice(0, eq)).replaceAll('+', ' '), 'invalid_query', 'query');
    const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1).replaceAll('+', ' '), 'invalid_query', 'query');
    if (params.has(name)) throw new ValidationError('invalid_query', 'query', `parameter "${name}" is given more than once`);
    params.set(name, value);
  }
  return params;
}

/** The query of `GET /v1/items`. Unknown parameters are ignored (forward compatibility). */
export function parseListQuery(query: string): ListQuery {
  const params = parseQueryString(query);
  const prefix = params.get('prefix') ?? '';
  // Only reachable with a raw lone surrogate (never from the wire, where the target is ASCII).
  if (!prefix.isWellFormed()) throw new ValidationError('invalid_query', 'prefix', 'is not valid UTF-8');
  const cursorText = params.get('cursor') ?? '';
  // An empty cursor means the first page, so clients can send `cursor=${last ?? ''}`.
  if (cursorText !== '' && !CURSOR_PATTERN.test(cursorText)) {
    throw new ValidationError('invalid_cursor', 'cursor', 'is not a cursor returned by this API');
  }
  return { prefix, cursor: cursorText === '' ? null : cursorText, limit: parseLimit(params.get('limit')) };
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIST_LIMIT;
  const limit = /^[0-9]{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(limit >= 1 && limit <= MAX_LIST_LIMIT)) {
    throw new ValidationError('invalid_limit', 'limit', `must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  return limit;
}

/** `application/json` (any parameters, any case) → json; anything else, or none → binary. */
export function parseContentType(header: string | undefined): ContentType {
  if (header === undefined) return 'binary';
  const media = (header.split(';', 1)[0] ?? '').trim().toLowerCase();
  return media === 'application/json' ? 'json' : 'binary';
}

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1), or null. */
export function parseBearer(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1] ?? null;
}

/** A Content-Length header as a number; null when absent or not a plain decimal. */
export function parseContentLength(header: string | undefined): number | null {
  return header !== undefined && /^[0-9]+$/.test(header) ? Number(header) : null;
}

/**
 * True when the bytes are one JSON document in UTF-8 without a BOM, nested at most `maxDepth`
 * deep (what a `json` record must hold). Scanned, never parsed into a tree (json-scan.ts).
 */
export function isJsonDocument(body: Uint8Array, maxDepth = DEFAULT_MAX_JSON_DEPTH): boolean {
  return jsonDocumentError(body, maxDepth) === null;
}

function decodeComponent(raw: string, code: string, field: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // decodeURIComponent throws URIError for a malformed escape or escaped bytes that are not UTF-8.
    throw new ValidationError(code, field, 'is not valid percent-encoded UTF-8');
  }
}
