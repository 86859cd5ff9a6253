/**
 * The stored leaf (src/store/leaf.ts, docs/wire-format.md): what the engine writes, parseLeaf reads
 * back exactly; the binary stamp keeps the stamps' order; a live leaf fits a listpack value (64
 * bytes); anything else is refused with bad_leaf.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { change as changeArb } from '../../fuzz/arbitraries.js';
import { LIVE_LEAF_BYTES, TOMBSTONE_LEAF_BYTES, TRACE_BYTES, leafHoldsHash, leafOriginId, leafToChange, parseLeaf, traceBytes, traceText } from '../../../src/store/leaf.js';
import { storedLeaf } from '../../support/leaf.js';
import type { Change } from '../../../src/model/change.js';

const stampOf = (c: Change) => ({ hlc: c.hlc, origin: c.origin, hash: c.op === 'PUT' ? c.hash : '', deleted: c.op === 'DEL' });
const recordValue = (c: Change): Buffer | null => c.op === 'PUT'
  ? Buffer.concat([c.content, c.traceParent ? traceBytes(c.traceParent) : Buffer.alloc(0)]) : null;
/** Any stamp of the stored shape: 16 digits (beyond the range too), '-', 5 digits. */
const anyHlc = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 16n - 1n }), fc.integer({ min: 0, max: 99_999 }))
  .map(([p, l]) => `${p.toString().padStart(16, '0')}-${String(l).padStart(5, '0')}`);

describe('stored leaf', () => {
  it('round-trips every valid change: stamp, metadata, origin id and the trace parent kept after the content', () => {
    fc.assert(
      fc.property(changeArb, fc.integer({ min: 1, max: 2 ** 24 - 1 }), (c, id) => {
        const raw = storedLeaf(c, id);
        expect(raw.length).toBe(c.op === 'PUT' ? LIVE_LEAF_BYTES : TOMBSTONE_LEAF_BYTES);
        expect(leafOriginId(raw)).toBe(id);
        const leaf = parseLeaf(raw, c.key, c.origin);
        expect(leaf.stamp).toEqual(stampOf(c));
        expect(leafHoldsHash(raw, c.op === 'PUT' ? c.hash : '')).toBe(c.op === 'PUT');
        const { wireData: _w, ...expected } = c as Change & { wireData?: Buffer };
        // A DEL's leaf carries version 0 and no content type; the change read back has neither.
        expect(leafToChange(c.key, leaf, recordValue(c))).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('fits a live leaf in a listpack value (64 bytes), with or without a trace parent', () => {
    expect(LIVE_LEAF_BYTES).toBeLessThanOrEqual(64);
  });

  it('orders stamps by their bytes as the text stamps are ordered, beyond the range too', () => {
    const leafOf = (hlc: string) => storedLeaf({ op: 'DEL', key: 'k', hlc, origin: 'o', updatedAt: 0 }, 1).subarray(4, 14);
    fc.assert(fc.property(anyHlc, anyHlc, (a, b) => {
      const bytes = Buffer.compare(leafOf(a), leafOf(b));
      expect(bytes).toBe(a < b ? -1 : a > b ? 1 : 0);
      expect(parseLeaf(storedLeaf({ op: 'DEL', key: 'k', hlc: a, origin: 'o', updatedAt: 0 }, 1), 'k', 'o').stamp.hlc).toBe(a);
    }));
  });

  it('keeps the largest safe integers as version and updated_at', () => {
    const c: Change = { op: 'PUT', key: 'k', content: Buffer.from('x'), hash: 'a'.repeat(64), contentType: 'json', version: Number.MAX_SAFE_INTEGER, updatedAt: Number.MAX_SAFE_INTEGER, hlc: '9999999999999999-99999', origin: 'paris' };
    const leaf = parseLeaf(storedLeaf(c, 7), 'k', 'paris');
    expect([leaf.version, leaf.updatedAt, leaf.stamp.hlc]).toEqual([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, c.hlc]);
  });

  it('leaves out a stored trace parent that is not a valid one, and keeps the content', () => {
    const c: Change = { op: 'PUT', key: 'k', content: Buffer.from('body'), hash: 'a'.repeat(64), contentType: 'json', version: 1, updatedAt: 5, hlc: '0000000000001000-00000', origin: 'paris', traceParent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` };
    const leaf = parseLeaf(storedLeaf(c, 1), 'k', 'paris');
    const zeroTrace = Buffer.alloc(TRACE_BYTES); // all-zero trace id: invalid (W3C)
    const got = leafToChange('k', leaf, Buffer.concat([c.content, zeroTrace]));
    expect(got).toMatchObject({ content: c.content });
    expect(got).not.toHaveProperty('traceParent');
    expect(traceText(traceBytes(c.traceParent!))).toBe(c.traceParent);
  });

  it('refuses a value that is not a v4 leaf, naming the key', () => {
    const good = storedLeaf({ op: 'PUT', key: 'k', content: Buffer.from('x'), hash: 'a'.repeat(64), contentType: 'json', version: 2, updatedAt: 5, hlc: '0000000000001000-00000', origin: 'paris' }, 1);
    const withFlags = (flags: number): Buffer => Buffer.concat([good.subarray(0, 3), Buffer.from([flags]), good.subarray(4)]);
    const bad = [
      Buffer.from(`${'x'.repeat(20)}0000000000001000-00000 0 ${'a'.repeat(64)} paris json 2 5 `, 'latin1'), // a v3 leaf
      good.subarray(0, 40), // cut short
      Buffer.concat([good, Buffer.from('x')]), // a byte too many
      withFlags(1), // says tombstone, has a live leaf's length
      withFlags(8), // an unknown flag
      Buffer.alloc(3),
    ];
    expect(parseLeaf(good, 'k', 'paris').stamp.origin).toBe('paris');
    expect(() => parseLeaf(good, 'k', '')).toThrow(expect.objectContaining({ code: 'bad_leaf' })); // an origin the table lacks
    for (const raw of bad) {
      expect(() => parseLeaf(raw, 'k', 'paris')).toThrow(expect.objectContaining({ code: 'bad_leaf', message: expect.stringContaining('"k"') }));
    }
  });
});
