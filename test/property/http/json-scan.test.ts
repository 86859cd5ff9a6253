/**
 * The streaming JSON scanner accepts exactly what strict UTF-8 decoding + JSON.parse accepts
 * (the validation it replaces), whatever the chunking, and refuses nesting past its limit.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JsonScanner, jsonDocumentError } from '../../../src/http/json-scan.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const DEEP = 10_000;

function reference(bytes: Uint8Array): boolean {
  try {
    JSON.parse(strictUtf8.decode(bytes));
    return true;
  } catch {
    return false;
  }
}

function scanInChunks(bytes: Uint8Array, cuts: number[], maxDepth = DEEP): boolean {
  const scanner = new JsonScanner(maxDepth);
  let start = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    scanner.write(bytes.subarray(start, cut));
    start = cut;
  }
  scanner.write(bytes.subarray(start));
  return scanner.end() === null;
}

/** Bytes that are often almost JSON: valid documents, then one byte dropped, replaced or inserted. */
const tokens = fc.constantFrom(
  '{', '}', '[', ']', ',', ':', '"', '\\', '\\u', '\\ud800', 'u00e9', ' ', '\n', '\t', '\r', '\f', 'true', 'false', 'null', 'tru', 'nul',
  '0', '1', '-', '+', '.', 'e', 'E', '01', '1.5', '-0', '1e5', '1E+2', '2e-', 'é', '🙂', '\u0000', '\u001f', '\u007f', '\ufeff', 'a', 'x', '"k"',
);
const jsonText = fc.oneof(
  fc.json({ depthSize: 'medium' }),
  fc.jsonValue().map((v) => JSON.stringify(v, null, 1)),
  fc.array(tokens, { maxLength: 30 }).map((t) => t.join('')),
);
const mutated = fc.tuple(jsonText, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('drop', 'replace', 'insert', 'none')).map(
  ([text, at, byte, how]) => {
    const bytes = [...Buffer.from(text, 'utf8')];
    const i = bytes.length === 0 ? 0 : at % bytes.length;
    if (how === 'drop') bytes.splice(i, 1);
    else if (how === 'replace') bytes.splice(i, 1, byte);
    else if (how === 'insert') bytes.splice(i, 0, byte);
    return Uint8Array.from(bytes);
  },
);
const candidates = fc.oneof(mutated, fc.uint8Array({ maxLength: 40 }), jsonText.map((t) => Buffer.from(t, 'utf8')));

describe('JsonScanner', () => {
  it('agrees with strict UTF-8 + JSON.parse on any bytes', () => {
    fc.assert(fc.property(candidates, (bytes) => (jsonDocumentError(bytes, DEEP) === null) === reference(bytes)), { numRuns: 20_000 });
  });

  it('gives the same verdict however the bytes are split into chunks', () => {
    fc.assert(
      fc.property(candidates, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => scanInChunks(bytes, cuts) === reference(bytes)),
      { numRuns: 10_000 },
    );
  });

  it('every UTF-8 code point in a string, split anywhere, is accepted; lone surrogate bytes are not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.array(fc.nat(), { maxLength: 6 }), (s, cuts) =>
        scanInChunks(Buffer.from(JSON.stringify(s), 'utf8'), cuts)),
      { numRuns: 5000 },
    );
    expect(jsonDocumentError(Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), DEEP)).toMatch(/UTF-8/);
    expect(jsonDocumentError(Buffer.from([0x22, 0xc0, 0xaf, 0x22]), DEEP)).toMatch(/UTF-8/);
  });

  it('accepts nesting up to maxDepth and refuses one level more, naming the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.boolean(), (depth, objects) => {
        const open = objects ? '{"a":' : '[';
        const close = objects ? '}' : ']';
        const doc = Buffer.from(`${open.repeat(depth)}1${close.repeat(depth)}`);
        return jsonDocumentError(doc, depth) === null && (jsonDocumentError(doc, depth - 1) ?? '').includes(`deeper than ${depth - 1}`);
      }),
    );
  });

  it('stops at the first bad byte and reports its offset', () => {
    const scanner = new JsonScanner(8);
    expect(scanner.write(Buffer.from('[1,'))).toBeNull();
    expect(scanner.write(Buffer.from(' ]'))).toBe('expected a value at byte 4');
    expect(scanner.end()).toBe('expected a value at byte 4');
    expect(jsonDocumentError(Buffer.alloc(0), 8)).toBe('the body is empty');
    expect(jsonDocumentError(Buffer.from('[[1]'), 8)).toMatch(/incomplete/);
  });
});
