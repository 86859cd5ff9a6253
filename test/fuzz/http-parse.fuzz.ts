// Fuzzing the HTTP API's pure request parsing: request-targets, paths, queries and headers of any shape give a
// value or a ValidationError (→ 400), never an exception that would become a 500.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzzParams, key } from './arbitraries.js';
import { checkHttpParser, type HttpParser } from './properties.js';

const PARSERS: HttpParser[] = ['parseRequestTarget', 'matchRoute', 'parseItemPath', 'parseQueryString', 'parseListQuery', 'parseContentType', 'parseBearer', 'parseContentLength', 'isJsonDocument'];

const pieces = fc.constantFrom(
  '/', '/v1/items', '/v1/items/', '?', '&', '=', '%', '%2F', '%2E%2E', '%00', '%C0%AF', '%ED%A0%80', '%F0%9F%98%80', '%FF', '%E', '+', '#',
  'prefix=', 'cursor=', 'limit=', 'limit=0', 'limit=1000', 'limit=1001', 'limit=01', 'limit=-1', 'limit=1e3', 'http://h:1', 'HTTP://x', '//',
  'Bearer ', 'bearer  ', 'application/json', '; charset=utf-8', 'APPLICATION/JSON', '\t', ' ', '\uD800', '\uFEFF', '{', '}', '[1]', '"', 'null',
);
const composed = fc.array(fc.oneof(pieces, fc.string({ maxLength: 5 })), { maxLength: 10 }).map((parts) => parts.join(''));
const input = fc.oneof(
  composed,
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  key.map((k) => `/v1/items/${encodeURIComponent(k)}`),
  fc.tuple(key, fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/), fc.integer({ min: -5, max: 2000 })).map(([p, c, l]) => `prefix=${encodeURIComponent(p)}&cursor=${c}&limit=${l}`),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
);

describe('fuzz: HTTP request parsing', () => {
  it('every parser: a well-formed value or a ValidationError', () => {
    fc.assert(fc.property(fc.constantFrom(...PARSERS), input, (parser, text) => checkHttpParser(parser, text)), fuzzParams(2));
  }, FUZZ_TIMEOUT);
});
