import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compress } from 'zstd-napi';
import { decodeCdcEntry, encodeCdcEntry } from '../../../src/cdc/codec.js';
import { compressForWire, decompressBounded, startsWithZstdMagic, ZSTD_MAGIC } from '../../../src/cdc/compression.js';
import { sha256Hex } from '../../../src/model/content-hash.js';
import { CdcDecodeError } from '../../../src/cdc/decode-error.js';
import { formatStreamId } from '../../../src/cdc/stream-id.js';
import { ValidationError } from '../../../src/errors.js';
import type { Change, PutChange } from '../../../src/model/change.js';
import { formatHlc, HLC_MAX_LOGICAL, HLC_MAX_PHYSICAL_MS } from '../../../src/model/hlc.js';
import { MAX_KEY_BYTES } from '../../../src/model/key.js';
import { NODE_ID_PATTERN } from '../../../src/model/node-id.js';
import { TRACE_PARENT_PATTERN, isTraceParent } from '../../../src/model/trace-parent.js';

const key = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }), // astral planes included
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1024 }),
    fc.constantFrom('😀'.repeat(256), 'é'.repeat(512), 'a'.repeat(1024)), // exactly 1024 bytes
  )
  .filter((k) => k.isWellFormed() && Buffer.byteLength(k) <= MAX_KEY_BYTES);

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const content = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  bytes(300),
  bytes(100).map((b) => Buffer.concat([ZSTD_MAGIC, b])),
  bytes(3).map((b) => Buffer.concat([ZSTD_MAGIC.subarray(0, 3), b])), // almost the magic
  fc.tuple(bytes(16), fc.integer({ min: 1, max: 4000 })).map(([unit, n]) => Buffer.alloc(unit.length * n || 1, unit.length ? unit : Buffer.from([0]))),
);
const largeContent = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((b) => Buffer.alloc(1 << 20, b)),
  fc.integer({ min: 900_000, max: 1 << 20 }).map((n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919) % 251))),
  fc.integer({ min: 0, max: 1000 }).map((seed) => {
    const out = Buffer.alloc(1 << 20);
    let x = seed + 1;
    for (let i = 0; i < out.length; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return out;
  }),
);

const hlc = fc.tuple(fc.integer({ min: 0, max: HLC_MAX_PHYSICAL_MS }), fc.integer({ min: 0, max: HLC_MAX_LOGICAL })).map(([p, l]) => formatHlc(p, l));
const origin = fc.stringMatching(NODE_ID_PATTERN);
const traceParent = fc.option(fc.stringMatching(TRACE_PARENT_PATTERN).filter(isTraceParent), { nil: undefined });
const safeNat = fc.oneof(fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const entryId = fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(([ms, seq]) => formatStreamId({ ms, seq }));

function putChange(body: fc.Arbitrary<Buffer>): fc.Arbitrary<PutChange> {
  return fc.record({ key, content: body, contentType: fc.constantFrom('json' as const, 'binary' as const), version: safeNat, updatedAt: safeNat, hlc, origin, traceParent }).map(
    ({ traceParent: tp, ...rest }) => ({ op: 'PUT' as const, ...rest, hash: sha256Hex(rest.content), ...(tp === undefined ? {} : { traceParent: tp }) }),
  );
}
const delChange = fc.record({ op: fc.constant('DEL' as const), key, updatedAt: safeNat, hlc, origin });
const change: fc.Arbitrary<Change> = fc.oneof(putChange(content), delChange);

function expectRoundTrip(id: string, original: Change): void {
  const encoded = encodeCdcEntry(original);
  const decoded = decodeCdcEntry(id, encoded);
  if (original.op === 'PUT') {
    expect(decoded.op).toBe('PUT');
    if (decoded.op !== 'PUT') return;
    const { content: got, wireData, ...rest } = decoded;
    const { content: want, ...wantRest } = original;
    // Buffer.equals: toEqual over large buffers is slow.
    expect(got.equals(want)).toBe(true);
    expect(wireData?.equals(encoded[7]!)).toBe(true);
    expect(rest).toEqual({ id, ...wantRest });
  } else {
    expect(decoded).toEqual({ id, ...original });
  }
}

function decodesOrRejects(id: string, list: unknown): void {
  try {
    decodeCdcEntry(id, list as Buffer[], { peerNodeId: 'peer', maxPayloadBytes: 1 << 20 });
  } catch (error) {
    if (!(error instanceof CdcDecodeError)) throw error;
  }
}

describe('CDC codec properties', () => {
  it('encode → decode round-trips every change', () => {
    fc.assert(fc.property(entryId, change, expectRoundTrip), { numRuns: 300 });
  });

  it('meta is exactly JSON.stringify of its fields in wire order (written out without escaping)', () => {
    fc.assert(
      fc.property(change, (c) => {
        const meta = c.op === 'PUT'
          ? JSON.stringify({ content_type: c.contentType, version: c.version, updated_at: c.updatedAt, ...(c.traceParent === undefined ? {} : { trace_parent: c.traceParent }), hlc: c.hlc, origin: c.origin })
          : JSON.stringify({ hlc: c.hlc, origin: c.origin, updated_at: c.updatedAt });
        expect(encodeCdcEntry(c)[c.op === 'PUT' ? 9 : 5]!.toString('utf8')).toBe(meta);
      }),
      { numRuns: 300 },
    );
  });

  it('encoding a change the store would refuse throws a ValidationError naming the field', () => {
    const bad: Change = { op: 'DEL', key: 'k', updatedAt: 1, hlc: formatHlc(1), origin: 'no"de' };
    expect(() => encodeCdcEntry(bad)).toThrow(ValidationError);
    expect(() => encodeCdcEntry(bad)).toThrow(/change\.origin/);
  });

  it('round-trips large content (up to 1 MiB, compressible or not)', () => {
    fc.assert(fc.property(entryId, putChange(largeContent), expectRoundTrip), { numRuns: 12 });
  });

  it('compressForWire output starts with the magic iff it is a frame that decodes back', () => {
    fc.assert(
      fc.property(content, (body) => {
        const wire = compressForWire(body);
        if (startsWithZstdMagic(wire)) {
          expect(decompressBounded(wire, body.length).equals(body)).toBe(true);
        } else {
          expect(wire.equals(body)).toBe(true);
        }
        // Content that starts with the magic is never sent raw.
        if (startsWithZstdMagic(body)) expect(wire.equals(body)).toBe(false);
        // Raw only when compression does not pay or the content is small.
        if (!startsWithZstdMagic(wire) && body.length >= 64) {
          expect(compress(body, { compressionLevel: 3 }).length).toBeGreaterThanOrEqual(body.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('decoding arbitrary field lists throws nothing but CdcDecodeError', () => {
    const names = fc.constantFrom('op', 'key', 'hash', 'data', 'meta', 'PUT', 'DEL', 'x');
    const item = fc.oneof(
      names,
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc.constantFrom('PUT', 'DEL', '{"content_type":"json","version":1,"updated_at":1}', '{"hlc":"x"}', Buffer.from(ZSTD_MAGIC)),
    );
    const junk = fc.oneof(fc.anything(), fc.constant(undefined), fc.integer(), fc.object());
    fc.assert(
      fc.property(
        fc.oneof(entryId, fc.string({ maxLength: 30 })),
        fc.oneof(fc.array(item, { maxLength: 12 }), fc.array(fc.oneof(item, junk), { maxLength: 12 }), junk),
        decodesOrRejects,
      ),
      { numRuns: 1000 },
    );
  });

  it('decoding mutated valid entries throws nothing but CdcDecodeError', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), field: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('truncate' as const), field: fc.nat(), keep: fc.nat() }),
      fc.record({ kind: fc.constant('drop' as const), field: fc.nat() }),
      fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
      fc.record({ kind: fc.constant('append' as const), field: fc.nat(), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    );
    fc.assert(
      fc.property(entryId, change, fc.array(mutation, { minLength: 1, maxLength: 4 }), (id, original, mutations) => {
        const list = encodeCdcEntry(original).map((b) => Buffer.from(b));
        for (const m of mutations) {
          if (list.length === 0) break;
          if (m.kind === 'flip') {
            const buf = list[m.field % list.length]!;
            if (buf.length > 0) buf[m.at % buf.length]! ^= 1 << m.bit;
          } else if (m.kind === 'truncate') {
            const i = m.field % list.length;
            list[i] = list[i]!.subarray(0, m.keep % (list[i]!.length + 1));
          } else if (m.kind === 'drop') {
            list.splice(m.field % list.length, 1);
          } else if (m.kind === 'swap') {
            const a = m.a % list.length;
            const b = m.b % list.length;
            [list[a], list[b]] = [list[b]!, list[a]!];
          } else {
            const i = m.field % list.length;
            list[i] = Buffer.concat([list[i]!, Buffer.from(m.extra)]);
          }
        }
        decodesOrRejects(id, list);
      }),
      { numRuns: 1000 },
    );
  });

  it('a flipped bit in data never decodes to different content', () => {
    fc.assert(
      fc.property(entryId, putChange(content), fc.nat(), fc.integer({ min: 0, max: 7 }), (id, original, at, bit) => {
        const list = encodeCdcEntry(original);
        const data = Buffer.from(list[7]!);
        fc.pre(data.length > 0);
        data[at % data.length]! ^= 1 << bit;
        list[7] = data;
        try {
          const decoded = decodeCdcEntry(id, list);
          // Only possible if the flip left the content intact (it cannot: the hash guards it).
          expect(decoded.op === 'PUT' && decoded.content.equals(original.content)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(CdcDecodeError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
