import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import binding from 'zstd-napi/binding.js';
import { compress } from 'zstd-napi';
import { decodeCdcEntry, encodeCdcEntry, type DecodeOptions } from '../../../src/cdc/codec.js';
import { compressForWire, decompressBounded, ZSTD_MAGIC } from '../../../src/cdc/compression.js';
import { sha256Hex } from '../../../src/model/content-hash.js';
import { CDC_REJECT_REASONS, CdcDecodeError, type CdcRejectReason } from '../../../src/cdc/decode-error.js';
import type { DelChange, PutChange } from '../../../src/model/change.js';
import { formatHlc } from '../../../src/model/hlc.js';
import { streamedZeroFrame } from '../../support/zstd-frames.js';

const ID = '1735776000000-0';
const HLC = '0001735776000000-00003';
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function put(overrides: Partial<PutChange> = {}): PutChange {
  const content = overrides.content ?? Buffer.from('{"name":"Alice"}');
  return {
    op: 'PUT', key: 'k1', content, hash: sha256Hex(content), contentType: 'json', version: 3,
    updatedAt: 1735776000000, hlc: HLC, origin: 'node-a', ...overrides,
  };
}

function del(overrides: Partial<DelChange> = {}): DelChange {
  return { op: 'DEL', key: 'k1', updatedAt: 1735776000000, hlc: HLC, origin: 'node-a', ...overrides };
}

/** A flat field list from readable pairs; values may be strings or raw bytes. */
function fields(...pairs: [string, string | Buffer][]): Buffer[] {
  return pairs.flatMap(([name, value]) => [Buffer.from(name), Buffer.isBuffer(value) ? value : Buffer.from(value)]);
}

function putFields(content: Buffer, meta: object | string, extra: { hash?: string; data?: Buffer } = {}): Buffer[] {
  return fields(
    ['op', 'PUT'], ['key', 'k1'], ['hash', extra.hash ?? sha256Hex(content)], ['data', extra.data ?? content],
    ['meta', typeof meta === 'string' ? meta : JSON.stringify(meta)],
  );
}

const META = { content_type: 'json', version: 1, updated_at: 1735776000000, hlc: HLC, origin: 'node-a' };

function rejection(run: () => unknown): CdcDecodeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CdcDecodeError);
    return error as CdcDecodeError;
  }
  throw new Error('expected a CdcDecodeError, but decoding succeeded');
}

function expectReject(reason: CdcRejectReason, list: unknown, options: DecodeOptions = {}, id = ID): void {
  const error = rejection(() => decodeCdcEntry(id, list as Buffer[], options));
  expect(error.reason).toBe(reason);
  expect(error.code).toBe(`cdc_${reason}`);
  expect(error.entryId).toBe(typeof id === 'string' ? id : '');
}

/** A zstd frame of `total` zero bytes made by streaming, so neither side ever holds the content. */
describe('CDC encoding', () => {
  it('writes PUT fields in wire order with meta keys in the fixed order', () => {
    const change = put({ traceParent: TRACE });
    const list = encodeCdcEntry(change).map((b) => b.toString());
    expect(list).toEqual([
      'op', 'PUT', 'key', 'k1', 'hash', change.hash, 'data', '{"name":"Alice"}', 'meta',
      `{"content_type":"json","version":3,"updated_at":1735776000000,"trace_parent":"${TRACE}","hlc":"${HLC}","origin":"node-a"}`,
    ]);
  });

  it('leaves trace_parent out of PUT meta when unset', () => {
    const meta = encodeCdcEntry(put())[9]!.toString();
    expect(meta).toBe(`{"content_type":"json","version":3,"updated_at":1735776000000,"hlc":"${HLC}","origin":"node-a"}`);
  });

  it('writes DEL as op, key, meta with hlc, origin, updated_at', () => {
    expect(encodeCdcEntry(del()).map((b) => b.toString())).toEqual([
      'op', 'DEL', 'key', 'k1', 'meta', `{"hlc":"${HLC}","origin":"node-a","updated_at":1735776000000}`,
    ]);
  });

  it('reuses wireData instead of compressing again', () => {
    const content = Buffer.alloc(1000, 7);
    const wireData = compressForWire(content);
    const decoded = decodeCdcEntry(ID, encodeCdcEntry(put({ content, wireData })));
    expect(decoded.op === 'PUT' && decoded.wireData).toEqual(wireData);
    const again = encodeCdcEntry(decoded as PutChange);
    expect(again[7]).toBe(wireData);
  });
});

describe('compressForWire', () => {
  it('keeps content under 64 bytes raw', () => {
    const small = Buffer.alloc(63, 0);
    expect(compressForWire(small)).toBe(small);
  });

  it('compresses content of 64 bytes or more when it gets smaller', () => {
    const wire = compressForWire(Buffer.alloc(64, 0));
    expect(wire.subarray(0, 4)).toEqual(ZSTD_MAGIC);
    expect(wire.length).toBeLessThan(64);
  });

  it('keeps incompressible content raw', () => {
    const noise = Buffer.concat([Buffer.from([0]), randomBytes(200)]);
    expect(compressForWire(noise)).toBe(noise);
  });

  it('always frames content that starts with the magic, even when larger', () => {
    for (const content of [ZSTD_MAGIC, Buffer.concat([ZSTD_MAGIC, randomBytes(300)])]) {
      const wire = compressForWire(content);
      expect(wire.length).toBeGreaterThan(content.length);
      expect(decompressBounded(wire, 1 << 20)).toEqual(content);
      const decoded = decodeCdcEntry(ID, encodeCdcEntry(put({ content, contentType: 'binary' })));
      expect(decoded.op === 'PUT' && decoded.content).toEqual(content);
    }
  });
});

describe('CDC decoding rejects', () => {
  it('lists every reason once', () => {
    expect(new Set(CDC_REJECT_REASONS).size).toBe(CDC_REJECT_REASONS.length);
  });

  it('bad_entry_id: a malformed stream id', () => {
    const ok = encodeCdcEntry(put());
    for (const id of ['', 'abc', '1-2-3', '-1', '1-', ' 1-0', `${2n ** 64n}-0`]) expectReject('bad_entry_id', ok, {}, id);
    expectReject('bad_entry_id', ok, {}, 42 as unknown as string);
  });

  it('bad_entry_id: a DEL without updated_at whose id milliseconds are no timestamp', () => {
    expectReject('bad_entry_id', fields(['op', 'DEL'], ['key', 'k']), { peerNodeId: 'p' }, `${2n ** 60n}-0`);
  });

  it('missing_field: op, key, hash, data or meta absent, or an odd-length list', () => {
    const full = putFields(Buffer.from('x'), META);
    for (const name of ['op', 'key', 'hash', 'data', 'meta']) {
      const i = full.findIndex((b, j) => j % 2 === 0 && b.toString() === name);
      expectReject('missing_field', [...full.slice(0, i), ...full.slice(i + 2)]);
    }
    expectReject('missing_field', full.slice(0, -1));
    expectReject('missing_field', fields(['key', 'k']));
    expectReject('missing_field', fields(['op', 'DEL']));
    expectReject('missing_field', []);
    expectReject('missing_field', null);
    expectReject('missing_field', [Buffer.from('op'), 5]);
  });

  it('unknown_op: anything but PUT and DEL', () => {
    for (const op of ['PATCH', 'put', 'PUT ', '', 'DELETE']) expectReject('unknown_op', fields(['op', op], ['key', 'k']));
  });

  it('bad_key: invalid UTF-8, empty, over 1024 bytes', () => {
    for (const key of [Buffer.from([0xff, 0x41]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.alloc(0), Buffer.alloc(1025, 0x61)]) {
      expectReject('bad_key', fields(['op', 'DEL'], ['key', key], ['meta', JSON.stringify({ hlc: HLC, origin: 'a' })]));
    }
    // 1024 bytes is fine, even in 4-byte characters.
    const decoded = decodeCdcEntry(ID, fields(['op', 'DEL'], ['key', '😀'.repeat(256)]), { peerNodeId: 'p' });
    expect(decoded.key).toBe('😀'.repeat(256));
  });

  it('bad_hash: a mismatch, uppercase hex, wrong length', () => {
    const content = Buffer.from('hello');
    expectReject('bad_hash', putFields(content, META, { hash: sha256Hex(Buffer.from('other')) }));
    expectReject('bad_hash', putFields(content, META, { hash: sha256Hex(content).toUpperCase() }));
    expectReject('bad_hash', putFields(content, META, { hash: sha256Hex(content).slice(1) }));
    // The hash covers the uncompressed content, not the wire bytes.
    const big = Buffer.alloc(500, 1);
    const wire = compressForWire(big);
    expectReject('bad_hash', putFields(big, META, { hash: sha256Hex(wire), data: wire }));
  });

  it('bad_zstd: magic followed by garbage, a truncated frame, trailing garbage', () => {
    const content = Buffer.alloc(5000, 3);
    const frame = compressForWire(content);
    for (const data of [
      Buffer.concat([ZSTD_MAGIC, Buffer.from('not a frame')]),
      ZSTD_MAGIC,
      frame.subarray(0, frame.length - 3),
      frame.subarray(0, 8),
      Buffer.concat([frame, Buffer.from('junk')]),
    ]) {
      expectReject('bad_zstd', putFields(content, META, { data }));
    }
  });

  it('too_large: raw or decompressed content above max_payload_bytes', () => {
    const content = Buffer.alloc(2000, 9);
    expectReject('too_large', putFields(content, META, { data: content }), { maxPayloadBytes: 1999 });
    expectReject('too_large', putFields(content, META, { data: compressForWire(content) }), { maxPayloadBytes: 1999 });
    // Exactly at the limit is accepted.
    expect(decodeCdcEntry(ID, putFields(content, META, { data: compressForWire(content) }), { maxPayloadBytes: 2000 }).op).toBe('PUT');
  });

  it('bad_meta: not a JSON object, or a field of the wrong type', () => {
    const content = Buffer.from('x');
    const bad: (object | string)[] = [
      'not json', '[1,2]', 'null', '"str"', Buffer.from([0xff]).toString('latin1'),
      { ...META, content_type: 'text' },
      { ...META, content_type: undefined },
      { ...META, version: -1 },
      { ...META, version: 1.5 },
      { ...META, version: '3' },
      { ...META, version: 2 ** 53 },
      { ...META, updated_at: undefined },
      { ...META, updated_at: -5 },
    ];
    for (const meta of bad) expectReject('bad_meta', putFields(content, meta));
    expectReject('bad_meta', fields(['op', 'DEL'], ['key', 'k'], ['meta', '{']));
    expectReject('bad_meta', fields(['op', 'DEL'], ['key', 'k'], ['meta', '{"updated_at":"soon"}']), { peerNodeId: 'p' });
    expectReject('bad_meta', fields(['op', 'PUT'], ['key', 'k'], ['hash', sha256Hex(content)], ['data', content], ['meta', Buffer.from([0xc3])]));
  });

  it('bad_stamp: malformed hlc or origin, one without the other, or nothing to derive from', () => {
    const content = Buffer.from('x');
    for (const meta of [
      { ...META, hlc: '1735776000000-0' },
      { ...META, hlc: 5 },
      { ...META, origin: 'bad origin' },
      { ...META, origin: '' },
      { ...META, origin: undefined },
      { ...META, hlc: undefined },
    ]) {
      expectReject('bad_stamp', putFields(content, meta), { peerNodeId: 'p' });
    }
    const unstamped = { content_type: 'json', version: 1, updated_at: 1 };
    expectReject('bad_stamp', putFields(content, unstamped));
    expectReject('bad_stamp', putFields(content, unstamped), { peerNodeId: 'not a node id' });
    expectReject('bad_stamp', fields(['op', 'DEL'], ['key', 'k']));
  });
});

describe('derived stamps (Rust sync-engine entries)', () => {
  it('a PUT without hlc/origin gets hlc from updated_at and the peer as origin', () => {
    const content = Buffer.from('{"a":1}');
    const decoded = decodeCdcEntry(ID, putFields(content, { content_type: 'json', version: 4, updated_at: 1735776000123 }), {
      peerNodeId: 'rust-peer',
    });
    expect(decoded).toEqual({
      id: ID, op: 'PUT', key: 'k1', content, hash: sha256Hex(content), contentType: 'json', version: 4,
      updatedAt: 1735776000123, hlc: '0001735776000123-00000', origin: 'rust-peer', wireData: content,
    });
  });

  it('a DEL with only op and key takes its time from the entry id', () => {
    const decoded = decodeCdcEntry('1735776009999-4', fields(['op', 'DEL'], ['key', 'gone']), { peerNodeId: 'rust-peer' });
    expect(decoded).toEqual({
      id: '1735776009999-4', op: 'DEL', key: 'gone', updatedAt: 1735776009999, hlc: formatHlc(1735776009999, 0), origin: 'rust-peer',
    });
  });

  it('a DEL with meta.updated_at but no stamp takes its time from updated_at', () => {
    const decoded = decodeCdcEntry(ID, fields(['op', 'DEL'], ['key', 'k'], ['meta', '{"updated_at":42}']), { peerNodeId: 'p' });
    expect(decoded).toMatchObject({ updatedAt: 42, hlc: formatHlc(42, 0), origin: 'p' });
  });

  it('a stamp in meta is kept, whatever the peer', () => {
    const decoded = decodeCdcEntry(ID, encodeCdcEntry(del({ origin: 'node-z' })), { peerNodeId: 'rust-peer' });
    expect(decoded).toEqual({ id: ID, ...del({ origin: 'node-z' }) });
  });

  it('tolerates a null trace_parent and ignores unknown meta keys and fields', () => {
    const content = Buffer.from('x');
    const list = [...putFields(content, { ...META, trace_parent: null, future: [1] }), Buffer.from('extra'), Buffer.from('v')];
    const decoded = decodeCdcEntry(ID, list);
    expect(decoded.op === 'PUT' && decoded.traceParent).toBeUndefined();
    expect(decoded.hlc).toBe(HLC);
  });
});

describe('decompression bombs', () => {
  it('rejects a frame whose header declares more than the limit without decompressing it', () => {
    const frame = compress(Buffer.alloc(64 * 1024 * 1024), { compressionLevel: 1 });
    expect(binding.getFrameContentSize(frame)).toBe(64 * 1024 * 1024);
    const error = rejection(() => decompressBounded(frame, 1024));
    expect(error.reason).toBe('too_large');
  });

  it('rejects a ~1 GB streaming frame with no declared size, with little memory', () => {
    const GB = 1024 * 1024 * 1024;
    const frame = streamedZeroFrame(GB);
    expect(frame.length).toBeLessThan(1024 * 1024);
    expect(binding.getFrameContentSize(frame)).toBeNull();
    const content = Buffer.alloc(0);
    const before = process.memoryUsage().rss;
    const error = rejection(() => decodeCdcEntry(ID, putFields(content, META, { data: frame })));
    const growth = process.memoryUsage().rss - before;
    expect(error.reason).toBe('too_large');
    expect(error.entryId).toBe(ID);
    expect(growth).toBeLessThan(200 * 1024 * 1024);
  });

  it('rejects a ~1 GB frame that declares its size from the header alone', () => {
    const frame = streamedZeroFrame(1024 * 1024 * 1024, { pledge: true });
    expect(binding.getFrameContentSize(frame)).toBe(1024 * 1024 * 1024);
    expect(rejection(() => decompressBounded(frame, 16 * 1024 * 1024)).reason).toBe('too_large');
  });

  it('rejects a frame that asks for a window larger than the limit allows', () => {
    // Streamed without a pledged size, so the header keeps the 128 MiB window.
    const frame = streamedZeroFrame(4 << 20, { windowLog: 27 });
    expect(binding.getFrameContentSize(frame)).toBeNull();
    expect(rejection(() => decompressBounded(frame, 8 << 20)).reason).toBe('too_large');
  });

  it('decompresses a streamed frame without a declared size when it fits', () => {
    const frame = streamedZeroFrame(3 << 20);
    expect(binding.getFrameContentSize(frame)).toBeNull();
    // Buffer.equals: a deep toEqual over megabytes is needlessly slow.
    expect(decompressBounded(frame, 3 << 20).equals(Buffer.alloc(3 << 20))).toBe(true);
  });

  it('decodes several concatenated frames as one content', () => {
    const a = compress(Buffer.from('a'.repeat(100)));
    const b = compress(Buffer.from('b'.repeat(100)));
    expect(decompressBounded(Buffer.concat([a, b]), 200).toString()).toBe('a'.repeat(100) + 'b'.repeat(100));
    expect(rejection(() => decompressBounded(Buffer.concat([a, b]), 199)).reason).toBe('too_large');
  });
});
