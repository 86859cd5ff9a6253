// Replication lag from the peer stream's metadata and our cursor.
import { describe, expect, it } from 'vitest';
import type { StreamInfo } from '../../../src/hot-path/gap.js';
import { LagTracker } from '../../../src/hot-path/lag.js';

const info = (over: Partial<StreamInfo>): StreamInfo => ({
  length: 3, lastGeneratedId: '5000-0', maxDeletedId: '0-0', firstEntryId: '3000-0', entriesAdded: 3, ...over,
});

describe('LagTracker', () => {
  it('before the first read, counts from the oldest entry, not from time zero', () => {
    const lag = new LagTracker();
    lag.observe('0-0', info({}));
    expect(lag.lagMs).toBe(2000);
    expect(lag.lagEvents).toBe(3);
  });

  it('an empty new stream is no lag', () => {
    const lag = new LagTracker();
    lag.observe('0-0', info({ length: 0, firstEntryId: null, lastGeneratedId: '0-0', entriesAdded: 0 }));
    expect([lag.lagMs, lag.lagEvents]).toEqual([0, 0]);
  });

  it('at the head: no lag; then counts exactly the entries added since, minus those read', () => {
    const lag = new LagTracker();
    lag.observe('5000-0', info({}));
    expect([lag.lagMs, lag.lagEvents]).toEqual([0, 0]);
    lag.observe('5000-0', info({ lastGeneratedId: '5600-0', entriesAdded: 13, length: 13 }));
    expect([lag.lagMs, lag.lagEvents]).toEqual([600, 10]);
    lag.onRead(4);
    lag.observe('5200-0', info({ lastGeneratedId: '5600-0', entriesAdded: 13, length: 13 }));
    expect([lag.lagMs, lag.lagEvents]).toEqual([400, 6]);
  });

  it('a cursor trimmed past counts from the first entry left', () => {
    const lag = new LagTracker();
    lag.observe('1000-0', info({ firstEntryId: '4000-0' }));
    expect(lag.lagMs).toBe(1000);
  });

  it('while the peer cannot be asked, the lag grows from the last observation instead of freezing', () => {
    const lag = new LagTracker();
    lag.observe('5200-0', info({ lastGeneratedId: '5600-0', entriesAdded: 13, length: 13 }), 10_000);
    expect(lag.lagMs).toBe(400);
    lag.unreachable(12_500);
    expect([lag.lagMs, lag.lagEvents]).toEqual([2900, 13]);
    lag.unreachable(9_000); // a clock stepping back never shrinks it below the observed lag
    expect(lag.lagMs).toBe(400);
    // Heard from again: measured from the stream, as before.
    lag.observe('5600-0', info({ lastGeneratedId: '5600-0', entriesAdded: 13, length: 13 }), 13_000);
    expect([lag.lagMs, lag.lagEvents]).toEqual([0, 0]);
  });

  it('before any observation, unreachable leaves the lag alone', () => {
    const lag = new LagTracker();
    lag.unreachable(50_000);
    expect([lag.lagMs, lag.lagEvents]).toEqual([0, 0]);
  });
});
