/**
 * The stored leaf (src/store/leaf.ts, docs/wire-format.md): what the engine writes (leafParts), parseLeaf
 * reads back exactly, digest included; anything else is refused with bad_leaf.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { change as changeArb } from '../../fuzz/arbitraries.js';
import { leafToChange, parseLeaf } from '../../../src/store/leaf.js';
import { storedLeaf } from '../../support/leaf.js';
import { DIGEST_BYTES, leafDigest } from '../../../src/merkle/tree-shape.js';
import type { Change } from '../../../src/model/change.js';

const stampOf = (c: Change) => ({ hlc: c.hlc, origin: c.origin, hash: c.op === 'PUT' ? c.hash : '', deleted: c.op === 'DEL' });

describe('stored leaf', () => {
  it('round-trips every valid change: stamp, metadata and the leaf digest in its first 20 bytes', () => {
    fc.assert(
      fc.property(changeArb, (c) => {
        const raw = storedLeaf(c);
        const leaf = parseLeaf(raw, c.key);
        expect(leaf.stamp).toEqual(stampOf(c));
        expect(raw.subarray(0, DIGEST_BYTES).toString('hex')).toBe(leafDigest(c.key, stampOf(c)));
        const content = c.op === 'PUT' ? c.content : null;
        const { wireData: _w, ...expected } = c as Change & { wireData?: Buffer };
        // A DEL's leaf carries version 0 and no content type; the change read back has neither.
        expect(leafToChange(c.key, leaf, content)).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a value that is not a v3 leaf, naming the key', () => {
    const good = storedLeaf({ op: 'PUT', key: 'k', content: Buffer.from('x'), hash: 'a'.repeat(64), contentType: 'json', version: 2, updatedAt: 5, hlc: '0000000000001000-00000', origin: 'paris' });
    const text = good.toString('latin1', DIGEST_BYTES);
    const digest = good.subarray(0, DIGEST_BYTES);
    const bad = [
      Buffer.from(text, 'latin1'), // a v2 leaf: no digest in front
      Buffer.concat([digest, Buffer.from(text.replace(' 0 ', ' 2 '), 'latin1')]), // tombstone flag not 0/1
      Buffer.concat([digest, Buffer.from(`${text} extra`, 'latin1')]), // a ninth field
      Buffer.concat([digest, Buffer.from(text.replace(' json ', ' xml '), 'latin1')]), // unknown content type
      Buffer.concat([digest, Buffer.from(text.replace(' 2 5 ', ' two 5 '), 'latin1')]), // version not a number
      Buffer.alloc(3),
    ];
    expect(parseLeaf(good, 'k').stamp.origin).toBe('paris');
    for (const raw of bad) {
      expect(() => parseLeaf(raw, 'k')).toThrow(expect.objectContaining({ code: 'bad_leaf', message: expect.stringContaining('"k"') }));
    }
  });
});
