/**
 * The hot path's shape checks are hand-written loops (faster than a regex); each must accept
 * exactly what its defining pattern accepts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isSha256Hex } from '../../../src/model/content-hash.js';
import { HLC_MAX_PHYSICAL_MS, isHlc, isHlcShape } from '../../../src/model/hlc.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const HLC = /^\d{16}-\d{5}$/;

/** Any character, but mostly the ASCII neighbours of digits and hex letters. */
const anyChar = fc.oneof(
  fc.constantFrom(...'/:@`AFGZgz-+ \u0000\u00e9'),
  fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
);

/** Strings of `length` ± 1 drawn from `alphabet`, so near misses (one bad char, one char too many) are common. */
function near(alphabet: string, length: number): fc.Arbitrary<string> {
  const ch = fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(...alphabet) },
    { weight: 1, arbitrary: anyChar },
  );
  return fc.array(ch, { minLength: length - 1, maxLength: length + 1 }).map((chars) => chars.join(''));
}

describe('shape checks agree with their patterns', () => {
  it('isSha256Hex is /^[0-9a-f]{64}$/', () => {
    // A hash with one character replaced by any character: every near miss of the right length.
    const oneOff = fc
      .tuple(near('0123456789abcdef', 64), fc.nat(63), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }))
      .map(([s, at, ch]) => s.slice(0, at) + ch + s.slice(at + 1));
    const candidates = fc.oneof(near('0123456789abcdef', 64), oneOff, fc.string({ unit: 'binary' }));
    fc.assert(fc.property(candidates, (s) => isSha256Hex(s) === SHA256_HEX.test(s)), { numRuns: 5000 });
  });

  it('isHlcShape is /^\\d{16}-\\d{5}$/, and isHlc that with a physical part of at most HLC_MAX_PHYSICAL_MS', () => {
    const hlcLike = fc
      .tuple(near('0123456789', 16), fc.constantFrom('-', '+', '0', ''), near('0123456789', 5))
      .map(([a, dash, b]) => a + dash + b);
    const candidates = fc.oneof(hlcLike, near('0123456789-', 22), fc.string({ unit: 'binary' }));
    fc.assert(fc.property(candidates, (s) => {
      expect(isHlcShape(s)).toBe(HLC.test(s));
      expect(isHlc(s)).toBe(HLC.test(s) && BigInt(s.slice(0, 16)) <= BigInt(HLC_MAX_PHYSICAL_MS));
    }), { numRuns: 5000 });
  });

  it('both accept real values', () => {
    expect(isSha256Hex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')).toBe(true);
    expect(isHlc('0001735776000000-00000')).toBe(true);
  });
});
