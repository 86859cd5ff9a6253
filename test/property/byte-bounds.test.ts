// Byte bounds of issue 14: apply calls (apply-chunks.ts), batches (prepareBatch's maxBatchBytes),
// XREAD counts (read-sizer.ts) and cold-path rounds (repair.ts byteRounds).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCdcEntry, encodeCdcEntry } from '../../src/cdc/codec.js';
import { ZSTD_MAGIC, compressForWire, zstdCompressBound } from '../../src/cdc/compression.js';
import { sha256Hex } from '../../src/model/content-hash.js';
import { byteRounds } from '../../src/cold-path/repair.js';
import { prepareBatch } from '../../src/hot-path/prepare-batch.js';
import { ReadSizer, entryBytes } from '../../src/hot-path/read-sizer.js';
import type { Change, PutChange } from '../../src/model/change.js';
import { formatHlc } from '../../src/model/hlc.js';
import { packChanges } from '../../src/store/commands/apply-args.js';
import { applyChunks, packedSizeOf } from '../../src/store/commands/apply-chunks.js';
import { assertStorableChange } from '../../src/store/validate-change.js';
import { putChange } from '../support/changes.js';

const NOW = 1_800_000_000_000;

function put(key: string, size: number, i = 0): PutChange {
  return putChange(key, Buffer.alloc(size, i % 251), NOW, 'peer', { hlc: formatHlc(NOW, i) });
}

function incompressible(key: string, size: number, i: number): PutChange {
  const c = put(key, 0, i);
  c.content = randomBytes(size);
  c.hash = sha256Hex(c.content);
  return c;
}

const sizes = fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 60 });

/** Ranges cover 0..n in order, none empty. */
function expectPartition(ranges: [number, number][], n: number): void {
  let at = 0;
  for (const [s, e] of ranges) {
    expect(s).toBe(at);
    expect(e).toBeGreaterThan(s);
    at = e;
  }
  expect(at).toBe(n);
}

describe('applyChunks', () => {
  it('partitions in order; a call exceeds maxBytes or maxChanges only as a single change', () => {
    fc.assert(fc.property(sizes, fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20_000 }), (ss, maxChanges, maxBytes) => {
      const changes = ss.map((s, i) => put(`k${i}`, s, i));
      const ranges = applyChunks(changes, maxChanges, maxBytes);
      expectPartition(ranges, changes.length);
      for (const [s, e] of ranges) {
        const bytes = changes.slice(s, e).reduce((sum, c) => sum + packedSizeOf(c), 0);
        if (e - s > 1) {
          expect(e - s).toBeLessThanOrEqual(maxChanges);
          expect(bytes).toBeLessThanOrEqual(maxBytes);
        }
      }
    }));
  });

  it('keeps 1000 small records in two calls of 500 (the count bound, unchanged)', () => {
    const changes = Array.from({ length: 1000 }, (_, i) => put(`k${i}`, 200, i));
    expect(applyChunks(changes, 500, 32 * 1024 * 1024)).toEqual([[0, 500], [500, 1000]]);
  });

  it('packedSizeOf bounds what packChanges writes, with and without emit', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 3000 }), fc.boolean(), fc.boolean(), (size, emit, random) => {
      const c = put('k/é', size);
      if (random) c.content = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7919) % 256));
      c.hash = sha256Hex(c.content);
      const changes: Change[] = [c, { op: 'DEL', key: 'gone', updatedAt: NOW, hlc: formatHlc(NOW), origin: 'peer' }];
      expect(packChanges(changes, emit, new Map()).length).toBeLessThanOrEqual(changes.reduce((s, x) => s + packedSizeOf(x), 0));
    }));
  });
});

describe('byteRounds', () => {
  it('partitions in order; a round exceeds maxBytes only as a single record', () => {
    fc.assert(fc.property(sizes, fc.integer({ min: 1, max: 20_000 }), (ss, maxBytes) => {
      const rounds = byteRounds(ss, ss.length, maxBytes);
      expectPartition(rounds, ss.length);
      for (const [s, e] of rounds) if (e - s > 1) expect(ss.slice(s, e).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(maxBytes);
    }));
  });

  it('is one round without sizes', () => {
    expect(byteRounds(null, 7, 10)).toEqual([[0, 7]]);
  });
});

describe('prepareBatch with maxBatchBytes', () => {
  const opts = { peerId: 'peer', localNodeId: 'me', maxPayloadBytes: 1 << 20, maxClockSkewMs: 60_000, maxFutureSkewMs: 60_000, nowMs: NOW };

  it('takes entries while their content fits the bound; a record larger than it goes alone', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 10_000 }), (ss, maxBatchBytes) => {
      // Incompressible: the wire bytes are the content, so an entry weighs its content's size.
      const raw = ss.map((s, i) => ({ id: `${i + 1}-0`, fields: encodeCdcEntry(incompressible(`k${i}`, s, i)) }));
      const batch = prepareBatch(raw, { ...opts, maxBatchBytes });
      expect(batch.consumed).toBeGreaterThanOrEqual(1);
      const decoded = batch.winners.reduce((sum, w) => sum + (w.op === 'PUT' ? w.content.length : 0), 0);
      const sum = (n: number): number => ss.slice(0, n).reduce((a, b) => a + b, 0);
      // Within the bound unless one record alone; the next entry would not have fit.
      if (batch.consumed > 1) expect(sum(batch.consumed)).toBeLessThanOrEqual(maxBatchBytes);
      if (batch.consumed < ss.length) expect(sum(batch.consumed + 1)).toBeGreaterThan(maxBatchBytes);
      expect(decoded).toBe(sum(batch.consumed));
    }));
  });

  it('keeps a read of 1000 records of ~200 bytes one batch at the default bound, read whole', () => {
    const raw = Array.from({ length: 1000 }, (_, i) => ({ id: `${i + 1}-0`, fields: encodeCdcEntry(incompressible(`k${i}`, 200, i)) }));
    const sizer = new ReadSizer(32 * 1024 * 1024);
    sizer.observe(raw);
    expect(sizer.limit(1000)).toBe(1000);
    expect(prepareBatch(raw, { ...opts, maxBatchBytes: 32 * 1024 * 1024 }).consumed).toBe(1000);
  });

  it('bounds the decompressed bytes of frames that inflate', () => {
    const big = put('zeros', 1 << 20);
    const raw = Array.from({ length: 40 }, (_, i) => ({ id: `${i + 1}-0`, fields: encodeCdcEntry({ ...big, key: `z${i}` }) }));
    expect(raw[0]!.fields.reduce((s, f) => s + f.length, 0)).toBeLessThan(2000);
    const held = (w: (typeof batch.winners)[number]): number => (w.op === 'PUT' ? w.content.length + (w.wireData?.length ?? 0) : 0);
    const batch = prepareBatch(raw, { ...opts, maxBatchBytes: 3 << 20 });
    expect(batch.consumed).toBe(2);
    expect(batch.winners.reduce((s, w) => s + held(w), 0)).toBeLessThanOrEqual(3 << 20);
    // One record larger than the bound goes alone.
    expect(prepareBatch(raw, { ...opts, maxBatchBytes: 1024 }).consumed).toBe(1);
  });
});

describe('ReadSizer', () => {
  const entry = (bytes: number): { id: string; fields: Buffer[] } => ({ id: '1-0', fields: [Buffer.alloc(bytes - 3)] });

  it('falls at once to what fits, at most doubles per read, and reads one entry after shrink', () => {
    const sizer = new ReadSizer(1000);
    expect(sizer.limit(500)).toBe(500);
    sizer.shrink();
    const counts: number[] = [];
    for (let i = 0; i < 12; i++) {
      const n = sizer.limit(500);
      counts.push(n);
      sizer.observe(Array.from({ length: n }, () => entry(10)));
    }
    expect(counts).toEqual([1, 2, 4, 8, 16, 32, 64, 100, 100, 100, 100, 100]);
    sizer.observe([entry(10), entry(400)]);
    expect(sizer.limit(500)).toBe(2);
    sizer.observe([entry(5000)]);
    expect(sizer.limit(500)).toBe(1);
  });

  it('never asks for more than requested, nor less than one', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: 4, max: 10_000 }), { maxLength: 10 }), { maxLength: 20 }), fc.integer({ min: 1, max: 1000 }), (reads, requested) => {
      const sizer = new ReadSizer(4096);
      for (const read of reads) {
        const n = sizer.limit(requested);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(requested);
        const entries = read.map(entry);
        sizer.observe(entries);
        const largest = Math.max(1, ...entries.map(entryBytes));
        if (entries.length > 0) expect(sizer.limit(requested)).toBeLessThanOrEqual(Math.max(1, Math.floor(4096 / largest)));
      }
    }));
  });
});

describe('zstdCompressBound', () => {
  it('bounds every frame our writer makes (the codec refuses larger zstd data)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.boolean(), (bytes, magic) => {
      const content = Buffer.concat([magic ? ZSTD_MAGIC : Buffer.alloc(0), Buffer.from(bytes)]);
      expect(compressForWire(content).length).toBeLessThanOrEqual(zstdCompressBound(content.length));
    }));
  });

  it('rejects as too_large zstd data padded beyond any frame of content within the limit', () => {
    const c = put('padded', 100);
    const frame = compressForWire(c.content);
    // A skippable frame (magic 0x184D2A50, 4-byte length) of 2 KiB after the real one: decodes the same.
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([0, 8, 0, 0]), Buffer.alloc(2048)]);
    const fields = encodeCdcEntry({ ...c, wireData: Buffer.concat([frame, skippable]) });
    expect(() => decodeCdcEntry('1-0', fields, { peerNodeId: 'peer', maxPayloadBytes: 1024 })).toThrow(/too_large|more than any frame/);
    expect(decodeCdcEntry('1-0', fields, { peerNodeId: 'peer', maxPayloadBytes: 8192 })).toMatchObject({ key: 'padded' });
  });
});

describe('assertStorableChange: one change must fit one apply call', () => {
  it('refuses a change whose content and wire data exceed what one Redis argument carries', () => {
    // allocUnsafe of this size is not touched, so it costs address space, not memory.
    const content = Buffer.allocUnsafe(300 * 1024 * 1024);
    const change: PutChange = { ...put('huge', 0), content, wireData: Buffer.allocUnsafe(300 * 1024 * 1024) };
    expect(() => assertStorableChange(change, 'entry', 512 * 1024 * 1024)).toThrow(/one apply call carries at most/);
    expect(() => assertStorableChange({ ...change, wireData: content }, 'entry', 512 * 1024 * 1024)).not.toThrow();
  });
});
