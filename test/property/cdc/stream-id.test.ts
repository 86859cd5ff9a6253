import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compareStreamIds,
  formatStreamId,
  parseStreamId,
  STREAM_START,
  StreamIdError,
  streamIdLagMs,
  streamIdMs,
  successorStreamId,
} from '../../../src/cdc/stream-id.js';

const U64_MAX = (1n << 64n) - 1n;
// Bias towards small values and the 64-bit edges so ties and overflow both occur.
const part = fc.oneof(
  fc.bigInt({ min: 0n, max: 5n }),
  fc.bigInt({ min: 0n, max: U64_MAX }),
  fc.bigInt({ min: U64_MAX - 3n, max: U64_MAX }),
);
const parts = fc.record({ ms: part, seq: part });
const streamId = parts.map(formatStreamId);

function numericOrder(a: { ms: bigint; seq: bigint }, b: { ms: bigint; seq: bigint }): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

describe('stream ids', () => {
  it('format∘parse and parse∘format are identities', () => {
    fc.assert(
      fc.property(parts, (p) => {
        const text = formatStreamId(p);
        expect(parseStreamId(text)).toEqual(p);
        expect(formatStreamId(parseStreamId(text))).toBe(text);
      }),
    );
  });

  it('compare is the numeric (ms, seq) order', () => {
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        expect(compareStreamIds(formatStreamId(a), formatStreamId(b))).toBe(numericOrder(a, b));
      }),
    );
  });

  it('compare is a total order: reflexive, antisymmetric, transitive', () => {
    fc.assert(
      fc.property(streamId, streamId, streamId, (a, b, c) => {
        expect(compareStreamIds(a, a)).toBe(0);
        expect(compareStreamIds(a, b)).toBe(-compareStreamIds(b, a) || 0);
        if (compareStreamIds(a, b) === 0) expect(a).toBe(b);
        if (compareStreamIds(a, b) <= 0 && compareStreamIds(b, c) <= 0) {
          expect(compareStreamIds(a, c)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });

  it('successor is the least id greater than the id', () => {
    fc.assert(
      fc.property(parts, streamId, (p, other) => {
        fc.pre(!(p.ms === U64_MAX && p.seq === U64_MAX));
        const id = formatStreamId(p);
        const next = successorStreamId(id);
        expect(compareStreamIds(next, id)).toBe(1);
        // Nothing lies strictly between id and its successor.
        expect(compareStreamIds(other, id) > 0 && compareStreamIds(other, next) < 0).toBe(false);
      }),
    );
  });

  it('successor steps seq, then rolls over to the next millisecond', () => {
    expect(successorStreamId('5-7')).toBe('5-8');
    expect(successorStreamId(`5-${U64_MAX}`)).toBe('6-0');
    expect(successorStreamId(STREAM_START)).toBe('0-1');
    expect(() => successorStreamId(`${U64_MAX}-${U64_MAX}`)).toThrow(StreamIdError);
  });

  it('lag is the non-negative millisecond difference', () => {
    const ms = fc.bigInt({ min: 0n, max: 2n ** 50n });
    fc.assert(
      fc.property(ms, part, ms, part, ms, (m1, s1, m2, s2, m3) => {
        const a = formatStreamId({ ms: m1, seq: s1 });
        const b = formatStreamId({ ms: m2, seq: s2 });
        const c = formatStreamId({ ms: m3, seq: 0n });
        const lag = streamIdLagMs(a, b);
        expect(lag).toBe(m2 > m1 ? Number(m2 - m1) : 0);
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(streamIdLagMs(a, a)).toBe(0);
        // At most one direction lags.
        expect(Math.min(lag, streamIdLagMs(b, a))).toBe(0);
        // Along a non-decreasing chain the lags add up.
        if (m1 <= m2 && m2 <= m3) expect(streamIdLagMs(a, c)).toBe(lag + streamIdLagMs(b, c));
        expect(streamIdMs(b)).toBe(Number(m2));
      }),
    );
  });

  it('accepts 0-0 and the 64-bit maximum', () => {
    expect(parseStreamId('0-0')).toEqual({ ms: 0n, seq: 0n });
    expect(parseStreamId(STREAM_START)).toEqual({ ms: 0n, seq: 0n });
    expect(parseStreamId(`${U64_MAX}-${U64_MAX}`)).toEqual({ ms: U64_MAX, seq: U64_MAX });
    expect(parseStreamId('1735776000000-5')).toEqual({ ms: 1735776000000n, seq: 5n });
  });

  it.each([
    '', '0', '1-', '-1', '-', '1-2-3', '+1-0', '1-+0', ' 1-0', '1-0 ', '1 -0', '1-0\n', '1.0-0', '0x1-0', '1e3-0',
    '١-٠', '*', '$', '>', `${U64_MAX + 1n}-0`, `0-${U64_MAX + 1n}`, '99999999999999999999999-0',
  ])('rejects the malformed id %j', (id) => {
    expect(() => parseStreamId(id)).toThrow(StreamIdError);
    try {
      parseStreamId(id);
    } catch (error) {
      expect((error as StreamIdError).code).toBe('invalid_stream_id');
    }
  });

  it('rejects any string that is not two decimal parts', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (text) => {
        fc.pre(!/^\d+-\d+$/.test(text));
        expect(() => parseStreamId(text)).toThrow(StreamIdError);
      }),
    );
  });

  it('compare refuses malformed ids instead of treating them as 0', () => {
    expect(() => compareStreamIds('', '0-0')).toThrow(StreamIdError);
    expect(() => streamIdLagMs('0-0', 'x')).toThrow(StreamIdError);
  });
});
