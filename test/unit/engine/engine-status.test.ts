// The status projection's counters: the tailer's, under the snake_case names /status documents.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { peerCounters, type PeerCounters } from '../../../src/engine/engine-status.js';

describe('peerCounters', () => {
  it('renames every tailer counter to its /status name, in order, values untouched', () => {
    const counters = peerCounters({ eventsRead: 7, eventsApplied: 5, eventsDeduped: 1, eventsRejected: 1, batches: 3, gaps: 2 });
    expect(Object.entries(counters)).toEqual([
      ['events_read', 7], ['events_applied', 5], ['events_deduped', 1], ['events_rejected', 1], ['batches', 3], ['gaps', 2],
    ]);
  });

  it('the type names exactly the documented fields', () => {
    expectTypeOf<PeerCounters>().toEqualTypeOf<{
      events_read: number; events_applied: number; events_deduped: number; events_rejected: number; batches: number; gaps: number;
    }>();
  });
});
