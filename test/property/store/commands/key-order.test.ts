/** keyByteOrder (src/store/commands/key-order.ts): the scripts' page walk relies on it being UTF-8 byte order exactly. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyByteOrder } from '../../../../src/store/commands/key-order.js';

const positions = (packed: Buffer): number[] => Array.from({ length: packed.length / 2 }, (_, i) => packed.readUInt16BE(2 * i));

describe('keyByteOrder', () => {
  it('orders any keys by their UTF-8 bytes, astral code points and U+E000–U+FFFF included, each distinct key once at its first position', () => {
    const key = fc.oneof(fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1 }),
      fc.constantFrom('\uE000', '\uFFFF', '\u{10000}', '\u{1F600}', 'a', 'a\u{10000}', 'a\uFFFD'));
    // Repeats too: a batch holds several changes of one key.
    fc.assert(fc.property(fc.array(key, { maxLength: 60 }), (keys) => {
      const order = positions(keyByteOrder(keys));
      const firsts = keys.map((k, i) => (keys.indexOf(k) === i ? i + 1 : 0)).filter((i) => i > 0);
      expect([...order].sort((a, b) => a - b)).toEqual(firsts);
      for (let i = 1; i < order.length; i++) {
        const a = Buffer.from(keys[order[i - 1]! - 1]!, 'utf8');
        const b = Buffer.from(keys[order[i]! - 1]!, 'utf8');
        expect(Buffer.compare(a, b)).toBeLessThanOrEqual(0);
      }
    }), { numRuns: 1000 });
  });

  it('refuses more keys than two bytes can number', () => {
    expect(() => keyByteOrder(new Array<string>(0x10000).fill('k'))).toThrow(RangeError);
  });
});
