import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packWrites, packedWriteBytes, type LocalWrite } from '../../../../src/store/commands/write.js';
import { traceBytes } from '../../../../src/store/leaf.js';

/** Reads write.lua's packed argument the way its struct.unpack format '>c1I4c0I4c0I4c0I4c0I4c0I4c0I4c0I4c0' does. */
function unpack(packed: Buffer): { op: string; fields: Buffer[] }[] {
  const out: { op: string; fields: Buffer[] }[] = [];
  let at = 0;
  while (at < packed.length) {
    const op = String.fromCharCode(packed[at++]!);
    const fields: Buffer[] = [];
    for (let i = 0; i < 8; i++) {
      const length = packed.readUInt32BE(at);
      fields.push(packed.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    out.push({ op, fields });
  }
  return out;
}

const write: fc.Arbitrary<LocalWrite> = fc.oneof(
  fc.record({
    op: fc.constant('PUT' as const), key: fc.string({ minLength: 1, unit: 'grapheme' }), content: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    hash: fc.stringMatching(/^[0-9a-f]{64}$/), contentType: fc.constantFrom('json', 'binary'), compressed: fc.boolean(), traceParent: fc.constantFrom('', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
  }).map(({ compressed, ...w }) => ({ ...w, wire: compressed ? Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), w.content]) : w.content })),
  fc.string({ minLength: 1 }).map((key): LocalWrite => ({ op: 'DEL', key, content: Buffer.alloc(0), hash: '', contentType: '', wire: Buffer.alloc(0), traceParent: '' })),
);

describe('packWrites (write.lua\'s argument)', () => {
  it('packs each write\'s fields in order, the wire form only when it is not the content, in exactly the bytes it counts', () => {
    fc.assert(fc.property(fc.array(write, { maxLength: 20 }), (writes) => {
      const packed = packWrites(writes);
      expect(packed.length).toBe(writes.reduce((s, w) => s + packedWriteBytes(w), 0));
      const got = unpack(packed);
      expect(got).toHaveLength(writes.length);
      writes.forEach((w, i) => {
        const { op, fields } = got[i]!;
        expect(op).toBe(w.op === 'PUT' ? 'P' : 'D');
        const [key, content, hash, hashBytes, contentType, wire, traceParent, traceParentBytes] = fields.map((f) => f);
        expect(key!.toString('utf8')).toBe(w.key);
        expect(content!.equals(w.op === 'PUT' ? w.content : Buffer.alloc(0))).toBe(true);
        expect(hash!.toString()).toBe(w.hash);
        expect(hashBytes!.toString('hex')).toBe(w.hash);
        expect(contentType!.toString()).toBe(w.contentType);
        expect(wire!.equals(w.op === 'PUT' && !w.wire.equals(w.content) ? w.wire : Buffer.alloc(0))).toBe(true);
        expect(traceParent!.toString()).toBe(w.traceParent);
        expect(traceParentBytes!.equals(w.traceParent ? traceBytes(w.traceParent) : Buffer.alloc(0))).toBe(true);
      });
    }));
  });
});
