/**
 * apply.lua's packed argument (src/store/commands/apply-args.ts): for any batch of valid changes,
 * reading it the way the script does (a 4-byte bucket, the 20-byte digest, a 2-byte origin index,
 * then seven fields each after a 4-byte big-endian length) gives back every change's bucket, digest,
 * origin, leaf, key, content, wire bytes, meta, trace parent and hash, in order, and nothing after the last change.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { change as changeArb } from '../../../fuzz/arbitraries.js';
import { applyArgs, packChanges } from '../../../../src/store/commands/apply-args.js';
import { leafWithoutOrigin, traceBytes } from '../../../../src/store/leaf.js';
import { bucketOf, leafDigest } from '../../../../src/merkle/tree-shape.js';
import { compressForWire } from '../../../../src/cdc/compression.js';
import { formatDelMeta, formatPutMeta } from '../../../../src/cdc/meta.js';
import type { Change } from '../../../../src/model/change.js';

/** The script's struct.unpack('>c4c20I2I4c0I4c0I4c0I4c0I4c0I4c0I4c0'), repeated until the buffer ends. */
function unpack(packed: Buffer): Buffer[][] {
  const changes: Buffer[][] = [];
  let at = 0;
  while (at < packed.length) {
    const fields: Buffer[] = [packed.subarray(at, at + 4), packed.subarray(at + 4, at + 24), packed.subarray(at + 24, at + 26)];
    at += 26;
    for (let f = 0; f < 7; f++) {
      const length = packed.readUInt32BE(at);
      fields.push(packed.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    changes.push(fields);
  }
  expect(at).toBe(packed.length);
  return changes;
}

function expectedFields(c: Change, emit: boolean, origins: Map<string, number>): Buffer[] {
  const bucket = Buffer.from(bucketOf(c.key), 'latin1');
  const key = Buffer.from(c.key, 'utf8');
  const deleted = c.op === 'DEL';
  const digest = Buffer.from(leafDigest(c.key, { hlc: c.hlc, origin: c.origin, hash: deleted ? '' : c.hash, deleted }), 'hex');
  const origin = Buffer.alloc(2);
  origin.writeUInt16BE(origins.get(c.origin)!);
  const head = [bucket, digest, origin, leafWithoutOrigin(c), key];
  if (c.op === 'DEL') return [...head, Buffer.alloc(0), Buffer.alloc(0), Buffer.from(emit ? formatDelMeta(c) : ''), Buffer.alloc(0), Buffer.alloc(0)];
  const wire = c.wireData ?? compressForWire(c.content);
  return [...head, c.content, !emit || wire === c.content ? Buffer.alloc(0) : wire, Buffer.from(emit ? formatPutMeta(c) : ''),
    c.traceParent ? traceBytes(c.traceParent) : Buffer.alloc(0), Buffer.from(emit ? c.hash : '')];
}

describe('apply.lua packed changes', () => {
  it('hold each change\'s bucket, digest, origin index and its seven fields, length-prefixed, in order', () => {
    fc.assert(
      fc.property(fc.array(changeArb, { maxLength: 20 }), fc.boolean(), (changes, emit) => {
        const origins = new Map<string, number>();
        const got = unpack(packChanges(changes, emit, origins));
        // Each origin named once, numbered from 1 in the order first met.
        expect([...origins.keys()]).toEqual([...new Set(changes.map((c) => c.origin))]);
        expect([...origins.values()]).toEqual([...origins.keys()].map((_, i) => i + 1));
        expect(got).toEqual(changes.map((c) => expectedFields(c, emit, origins)));
      }),
      { numRuns: 500 },
    );
  });

  it('come with the count and the greatest stamp of the batch', () => {
    fc.assert(
      fc.property(fc.array(changeArb, { minLength: 1, maxLength: 20 }), (changes) => {
        const [prefix, emit, maxlen, count, maxHlc, , , , origins] = applyArgs('n:', changes, true, 100, 0, 0);
        expect([prefix, emit, maxlen, count]).toEqual(['n:', '1', 100, changes.length]);
        expect(origins).toBe([...new Set(changes.map((c) => c.origin))].join(' '));
        expect(maxHlc).toBe(changes.map((c) => c.hlc).sort().at(-1));
      }),
    );
  });
});
