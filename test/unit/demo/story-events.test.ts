// The demo's story lines: each change told once, repairs counted even when two land between snapshots.
import { describe, expect, it } from 'vitest';
import type { NodeView, PeerView } from '../../../src/demo/node-snapshot.js';
import { StoryEvents } from '../../../src/demo/story-events.js';

const peer = (over: Partial<PeerView> = {}): PeerView => ({
  name: 'london', circuit: 'closed', connected: true, lagMs: 0, hotApplied: 0, coldRepaired: 0, gaps: 0, lastRepair: null, ...over,
});
const berlin = (p: Partial<PeerView>): NodeView[] => [{ name: 'berlin', writes: 0, keys: 0, root: '0', peers: [peer(p)] }];

describe('StoryEvents', () => {
  it('the first snapshot is the baseline: nothing to tell', () => {
    expect(new StoryEvents().next(berlin({ circuit: 'open', gaps: 2 }))).toEqual([]);
  });

  it('a circuit opening is told once (half-open flapping is not news), and its closing', () => {
    const s = new StoryEvents();
    s.next(berlin({}));
    expect(s.next(berlin({ circuit: 'open' })).map((l) => l.text)).toEqual([expect.stringMatching(/^berlin ← london: circuit open/)]);
    expect(s.next(berlin({ circuit: 'half_open' }))).toEqual([]);
    expect(s.next(berlin({ circuit: 'open' }))).toEqual([]);
    const closed = s.next(berlin({ circuit: 'closed' }));
    expect(closed).toEqual([{ text: expect.stringMatching(/^berlin ← london: circuit closed/), tone: 'good' }]);
  });

  it('a gap is told once per link', () => {
    const s = new StoryEvents();
    s.next(berlin({}));
    expect(s.next(berlin({ gaps: 1 })).map((l) => l.text)).toEqual([expect.stringMatching(/^berlin ← london: gap — london's stream trimmed past berlin's cursor/)]);
    expect(s.next(berlin({ gaps: 2 }))).toEqual([]);
  });

  it('repairs: from the keys-pulled counter, only once reporting is on', () => {
    const s = new StoryEvents();
    s.next(berlin({}));
    expect(s.next(berlin({ coldRepaired: 3 }))).toEqual([]);
    s.reportRepairs = true;
    // Two repairs between snapshots (170 keys, then an in-sync cycle): the keys are still told.
    const lines = s.next(berlin({ coldRepaired: 173, lastRepair: { at: '2025-01-01T00:00:00Z', result: 'in_sync', items: 0 } }));
    expect(lines).toEqual([{ text: 'berlin ← london: cold path repaired 170 keys', tone: 'good' }]);
    expect(s.next(berlin({ coldRepaired: 174, lastRepair: { at: '2025-01-01T00:00:01Z', result: 'partial', items: 1 } })).map((l) => l.text))
      .toEqual(['berlin ← london: cold path repaired 1 key (budget reached; the rest next cycle)']);
  });
});
