/** The list cursor round-trips every key, and any cursor the store did not produce is refused. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeScanCursor, encodeScanCursor } from '../../../src/store/scan-cursor.js';
import { assertValidKey } from '../../../src/model/key.js';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const key = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((k) => {
  try {
    assertValidKey(k);
    return true;
  } catch {
    return false;
  }
});

describe('scan cursor', () => {
  it('decodes what it encodes', () => {
    fc.assert(fc.property(key, (k) => decodeScanCursor(encodeScanCursor(k)) === k));
  });

  it('refuses a cursor with any one character changed, dropped or added', () => {
    fc.assert(
      fc.property(key, fc.nat(), fc.constantFrom(...BASE64URL), fc.constantFrom('replace', 'drop', 'insert'), (k, at, ch, how) => {
        const cursor = encodeScanCursor(k);
        const i = at % cursor.length;
        const mutated = how === 'replace' ? cursor.slice(0, i) + ch + cursor.slice(i + 1)
          : how === 'drop' ? cursor.slice(0, i) + cursor.slice(i + 1)
            : cursor.slice(0, i) + ch + cursor.slice(i);
        if (mutated === cursor) return true;
        try {
          decodeScanCursor(mutated);
          return false;
        } catch (err) {
          return (err as { code?: string }).code === 'invalid_cursor';
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses plain base64url of a key (the old format) and short strings', () => {
    for (const c of ['AAAA', 'A', '', Buffer.from('k').toString('base64url'), `${encodeScanCursor('k')}=`]) {
      expect(() => decodeScanCursor(c), c).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
    }
  });
});
