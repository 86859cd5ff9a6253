// The pure request-parsing layer of the HTTP API: examples, plus the fuzz contract that nothing
// but a ValidationError ever escapes, whatever the path, query or header.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError } from '../../../src/errors.js';
import {
  isJsonDocument, matchRoute, parseBearer, parseContentLength, parseContentType, parseItemPath, parseListQuery,
  parseQueryString, parseRequestTarget,
} from '../../../src/http/parse.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).code;
  }
}

describe('parseRequestTarget', () => {
  it('splits path and query, accepts absolute-form, never resolves dot segments', () => {
    expect(parseRequestTarget('/v1/items?prefix=a&limit=2')).toEqual({ path: '/v1/items', query: 'prefix=a&limit=2' });
    expect(parseRequestTarget('/health')).toEqual({ path: '/health', query: '' });
    expect(parseRequestTarget('http://node-a:8790/status?x')).toEqual({ path: '/status', query: 'x' });
    expect(parseRequestTarget('http://node-a:8790')).toEqual({ path: '/', query: '' });
    expect(parseRequestTarget('/v1/items/%2E%2E')).toEqual({ path: '/v1/items/%2E%2E', query: '' });
    expect(parseRequestTarget('?a=1')).toEqual({ path: '/', query: 'a=1' });
  });
});

describe('matchRoute / parseItemPath', () => {
  it('names the fixed routes and nothing near them', () => {
    for (const r of ['health', 'ready', 'metrics', 'status'] as const) expect(matchRoute(`/${r}`)).toEqual({ route: r });
    expect(matchRoute('/v1/items')).toEqual({ route: 'items' });
    for (const p of ['/', '/health/', '/HEALTH', '/v1', '/v1/items2', '/v2/items/k']) expect(matchRoute(p)).toBeNull();
  });

  it('decodes the key from one segment', () => {
    expect(parseItemPath('/v1/items/patient%2F1')).toBe('patient/1');
    expect(parseItemPath('/v1/items/a+b%20c')).toBe('a+b c');
    expect(parseItemPath('/v1/items/%2E%2E')).toBe('..');
    expect(parseItemPath('/v1/items/%F0%9F%99%82')).toBe('🙂');
    expect(matchRoute('/v1/items/k')).toEqual({ route: 'item', key: 'k' });
    expect(parseItemPath('/v1/itemsk')).toBeNull();
  });

  it('refuses bad keys with invalid_key and a detail that names the problem', () => {
    expect(codeOf(() => parseItemPath('/v1/items/'))).toBe('invalid_key');
    expect(codeOf(() => parseItemPath('/v1/items/a/b'))).toBe('invalid_key');
    expect(codeOf(() => parseItemPath('/v1/items/%ZZ'))).toBe('invalid_key');
    expect(codeOf(() => parseItemPath('/v1/items/%E0%A4%A'))).toBe('invalid_key');
    expect(codeOf(() => parseItemPath('/v1/items/%ED%A0%80'))).toBe('invalid_key'); // an encoded surrogate
    expect(codeOf(() => parseItemPath(`/v1/items/${'k'.repeat(1025)}`))).toBe('invalid_key');
    expect(codeOf(() => parseItemPath(`/v1/items/${'%C3%A9'.repeat(513)}`))).toBe('invalid_key'); // 1026 bytes
    expect(parseItemPath(`/v1/items/${'k'.repeat(1024)}`)).toHaveLength(1024);
    expect(() => parseItemPath('/v1/items/')).toThrow(/empty/);
    expect(() => parseItemPath('/v1/items/%ZZ')).toThrow(/percent-encoded/);
  });
});

describe('query strings', () => {
  it('parses form encoding and refuses repeats and malformed escapes', () => {
    expect(parseQueryString('a=1&b=x+y%2Bz&c&&d=')).toEqual(new Map([['a', '1'], ['b', 'x y+z'], ['c', ''], ['d', '']]));
    expect(codeOf(() => parseQueryString('a=1&a=2'))).toBe('invalid_query');
    expect(codeOf(() => parseQueryString('a=%'))).toBe('invalid_query');
  });

  it('list query: defaults, bounds, cursor syntax', () => {
    expect(parseListQuery('')).toEqual({ prefix: '', cursor: null, limit: 100 });
    expect(parseListQuery('prefix=a%2F&cursor=YS8x&limit=1000&other=1')).toEqual({ prefix: 'a/', cursor: 'YS8x', limit: 1000 });
    expect(parseListQuery('cursor=').cursor).toBeNull();
    expect(parseListQuery('limit=007').limit).toBe(7);
    for (const l of ['0', '1001', '-1', '1.5', '1e2', '', ' 1', '99999']) expect(codeOf(() => parseListQuery(`limit=${l}`)), l).toBe('invalid_limit');
    for (const c of ['!!', 'a=b', 'YS8x%3D', 'a b']) expect(codeOf(() => parseListQuery(`cursor=${c}`)), c).toBe('invalid_cursor');
  });
});

describe('headers and body', () => {
  it('content type: application/json with any parameters or case is json, anything else binary', () => {
    expect(parseContentType('application/json')).toBe('json');
    expect(parseContentType('Application/JSON ; charset=utf-8')).toBe('json');
    for (const h of [undefined, '', 'text/plain', 'application/jsonx', 'application/vnd.x+json', 'application/octet-stream']) {
      expect(parseContentType(h)).toBe('binary');
    }
  });

  it('bearer token: scheme case-insensitive, exactly one token', () => {
    expect(parseBearer('Bearer abc.def-1')).toBe('abc.def-1');
    expect(parseBearer('bearer  abc ')).toBe('abc');
    for (const h of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'Bearerabc']) expect(parseBearer(h)).toBeNull();
  });

  it('content length', () => {
    expect(parseContentLength('42')).toBe(42);
    expect(parseContentLength(undefined)).toBeNull();
    expect(parseContentLength('-1')).toBeNull();
    expect(parseContentLength('1e3')).toBeNull();
  });

  it('json documents must be strict UTF-8 JSON without a BOM', () => {
    expect(isJsonDocument(Buffer.from('{"a":[1,2,"é"]}'))).toBe(true);
    expect(isJsonDocument(Buffer.from(' 3 '))).toBe(true);
    for (const b of ['', '{', "{'a':1}", '\ufeff{}', 'NaN']) expect(isJsonDocument(Buffer.from(b)), b).toBe(false);
    expect(isJsonDocument(Buffer.from([0x22, 0xff, 0x22]))).toBe(false);
  });
});

describe('fuzz: nothing but ValidationError escapes the parser', () => {
  // Strings biased towards what matters: slashes, escapes (valid, truncated, bad hex, surrogates), separators.
  const pieces = fc.constantFrom(
    '/', '/v1', '/v1/items', '/v1/items/', '?', '&', '=', '+', '%', '%2F', '%2', '%ZZ', '%E0%A4%A', '%ED%A0%80', '%F0%9F%99%82',
    '%C3', '..', '.', 'limit', 'cursor', 'prefix', 'http://h:1', '#', ' ', '\uD800', '\u0000', 'é', 'k',
  );
  const target = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.array(fc.oneof(pieces, fc.string({ maxLength: 4 })), { maxLength: 16 }).map((parts) => parts.join('')),
  );

  function onlyValidationErrors(fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      expect(err.code).toMatch(/^invalid_(key|query|limit|cursor)$/);
    }
  }

  it('parseRequestTarget + matchRoute + parseListQuery on arbitrary targets', () => {
    fc.assert(
      fc.property(target, (t) => {
        const { path, query } = parseRequestTarget(t);
        expect(path.length).toBeGreaterThan(0);
        onlyValidationErrors(() => {
          const match = matchRoute(path);
          if (match?.route === 'item') {
            expect(match.key.isWellFormed()).toBe(true);
            expect(Buffer.byteLength(match.key)).toBeLessThanOrEqual(1024);
          }
        });
        onlyValidationErrors(() => {
          const q = parseListQuery(query);
          expect(q.limit).toBeGreaterThanOrEqual(1);
          expect(q.limit).toBeLessThanOrEqual(1000);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('header parsers never throw on arbitrary values', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: 'binary' }), { nil: undefined }), (h) => {
        parseContentType(h);
        parseBearer(h);
        parseContentLength(h);
        isJsonDocument(Buffer.from(h ?? ''));
      }),
      { numRuns: 1000 },
    );
  });

  it('every key round-trips through encodeURIComponent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }), (key) => {
        expect(matchRoute(`/v1/items/${encodeURIComponent(key)}`)).toEqual({ route: 'item', key });
      }),
    );
  });
});
