/**
 * apply.lua's packed argument (src/store/commands/apply-args.ts): for any batch of valid changes,
 * reading it the way the script does (a 4-byte bucket, then five fields each after a 4-byte
 * big-endian length) gives back every change's bucket, leaf, key, content, wire bytes and meta,
 * in order, and nothing after the last change.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { change as changeArb } from '../../../fuzz/arbitraries.js';
import { applyArgs, packChanges } from '../../../../src/store/commands/apply-args.js';
import { storedLeaf } from '../../../support/leaf.js';
import { bucketOf } from '../../../../src/merkle/tree-shape.js';
import { compressForWire } from '../../../../src/cdc/compression.js';
import { formatDelMeta, formatPutMeta } from '../../../../src/cdc/meta.js';
import type { Change } from '../../../../src/model/change.js';

/** The script's struct.unpack('>c4I4c0I4c0I4c0I4c0I4c0'), repeated until the buffer ends. */
function unpack(packed: Buffer): Buffer[][] {
  const changes: Buffer[][] = [];
  let at = 0;
  while (at < packed.length) {
    const fields: Buffer[] = [packed.subarray(at, at + 4)];
    at += 4;
    for (let f = 0; f < 5; f++) {
      const length = packed.readUInt32BE(at);
      fields.push(packed.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    changes.push(fields);
  }
  expect(at).toBe(packed.length);
  return changes;
}

function expectedFields(c: Change, emit: boolean): Buffer[] {
  const bucket = Buffer.from(bucketOf(c.key), 'latin1');
  const key = Buffer.from(c.key, 'utf8');
  if (c.op === 'DEL') return [bucket, storedLeaf(c), key, Buffer.alloc(0), Buffer.alloc(0), Buffer.from(emit ? formatDelMeta(c) : '')];
  const wire = c.wireData ?? compressForWire(c.content);
  return [bucket, storedLeaf(c), key, c.content, !emit || wire === c.content ? Buffer.alloc(0) : wire, Buffer.from(emit ? formatPutMeta(c) : '')];
}

describe('apply.lua packed changes', () => {
  it('hold each change\'s bucket and its five fields, length-prefixed, in order', () => {
    fc.assert(
      fc.property(fc.array(changeArb, { maxLength: 20 }), fc.boolean(), (changes, emit) => {
        const got = unpack(packChanges(changes, emit));
        expect(got).toEqual(changes.map((c) => expectedFields(c, emit)));
      }),
      { numRuns: 500 },
    );
  });

  it('come with the count and the greatest stamp of the batch', () => {
    fc.assert(
      fc.property(fc.array(changeArb, { minLength: 1, maxLength: 20 }), (changes) => {
        const [prefix, emit, maxlen, count, maxHlc] = applyArgs('n:', changes, true, 100, 0, 0);
        expect([prefix, emit, maxlen, count]).toEqual(['n:', '1', 100, changes.length]);
        expect(maxHlc).toBe(changes.map((c) => c.hlc).sort().at(-1));
      }),
    );
  });
});
