// Gap detection from XINFO STREAM: when the hot path must hand over to the cold path.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareStreamIds, formatStreamId } from '../../../src/cdc/stream-id.js';
import { detectGap, type StreamInfo } from '../../../src/hot-path/gap.js';

const info = (over: Partial<StreamInfo>): StreamInfo => ({
  length: 10, lastGeneratedId: '100-0', maxDeletedId: '0-0', firstEntryId: '91-0', entriesAdded: 100, ...over,
});

describe('detectGap', () => {
  it('no stream: data loss only if we had read something', () => {
    expect(detectGap('0-0', null)).toBeNull();
    expect(detectGap('5-0', null)).toBe('peer_behind');
  });

  it('a stream behind our cursor is a peer that lost its data', () => {
    expect(detectGap('200-0', info({}))).toBe('peer_behind');
  });

  it('a recorded deletion past the cursor is a gap (XDEL, Redis >= 7.2 trims)', () => {
    expect(detectGap('95-0', info({ maxDeletedId: '96-0', firstEntryId: '91-0' }))).toBe('trimmed');
    expect(detectGap('95-0', info({ maxDeletedId: '90-0' }))).toBeNull();
  });

  it('Redis 7.0 trims record nothing: an emptied stream with entries past the cursor is a gap', () => {
    expect(detectGap('50-0', info({ length: 0, firstEntryId: null, maxDeletedId: '0-0' }))).toBe('trimmed');
    expect(detectGap('100-0', info({ length: 0, firstEntryId: null, maxDeletedId: '0-0' }))).toBeNull();
  });

  it('Redis 7.0 trims: the first entry left past our cursor means our entry was trimmed too', () => {
    expect(detectGap('50-0', info({ firstEntryId: '91-0' }))).toBe('trimmed');
    expect(detectGap('91-0', info({ firstEntryId: '91-0' }))).toBeNull();
    expect(detectGap('95-0', info({ firstEntryId: '91-0' }))).toBeNull();
  });

  it('a fresh cursor never sees a trimmed gap (it reads whatever is there)', () => {
    expect(detectGap('0-0', info({ firstEntryId: '91-0', maxDeletedId: '0-0' }))).toBeNull();
  });

  it('property: a cursor at or past the first entry of an intact stream is never a gap', () => {
    const id = fc.tuple(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 5 })).map(([ms, seq]) => formatStreamId({ ms: BigInt(ms), seq: BigInt(seq) }));
    fc.assert(fc.property(id, id, id, (a, b, c) => {
      const [first, cursor, last] = [a, b, c].sort(compareStreamIds);
      expect(detectGap(cursor!, info({ firstEntryId: first!, lastGeneratedId: last!, maxDeletedId: '0-0', length: 3 }))).toBeNull();
    }));
  });
});
