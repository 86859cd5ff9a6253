// What a look at the peer stream's metadata means for the tailer: gaps reported once, a reset only
// when the peer is behind, a forced look after a failed call, and when it is catching up.
import { describe, expect, it } from 'vitest';
import type { StreamInfo } from '../../../src/peer/peer-connection.js';
import { STREAM_INFO_INTERVAL_MS, StreamWatch, farBehind, watchStream } from '../../../src/hot-path/stream-watch.js';

const info = (over: Partial<StreamInfo>): StreamInfo => ({
  length: 10, lastGeneratedId: '100-0', maxDeletedId: '0-0', firstEntryId: '91-0', entriesAdded: 100, ...over,
});

describe('watchStream', () => {
  it('no gap, no verdict', () => {
    expect(watchStream('95-0', info({}), null)).toBeNull();
  });

  it('a trimmed gap asks for a repair and reads on from the cursor', () => {
    expect(watchStream('95-0', info({ maxDeletedId: '96-0' }), null)).toEqual({ kind: 'trimmed', reset: false, signal: 'trimmed:96-0:100-0' });
  });

  it('a peer behind the cursor resets it, also when its stream is gone', () => {
    expect(watchStream('200-0', info({}), null)).toMatchObject({ kind: 'peer_behind', reset: true });
    expect(watchStream('5-0', null, null)).toEqual({ kind: 'peer_behind', reset: true, signal: 'peer_behind::' });
  });

  it('the same gap seen again is not reported again; a new one is', () => {
    const first = watchStream('95-0', info({ maxDeletedId: '96-0' }), null)!;
    expect(watchStream('95-0', info({ maxDeletedId: '96-0' }), first.signal)).toBeNull();
    expect(watchStream('95-0', info({ maxDeletedId: '97-0' }), first.signal)).toMatchObject({ kind: 'trimmed' });
  });
});

describe('farBehind', () => {
  it('more entries unread than one batch takes, with the cursor behind the head', () => {
    expect(farBehind('50-0', info({}), 101, 100)).toBe(true);
    expect(farBehind('50-0', info({}), 100, 100)).toBe(false);
    expect(farBehind('100-0', info({}), 500, 100)).toBe(false);
    expect(farBehind('50-0', null, 500, 100)).toBe(false);
  });
});

describe('StreamWatch', () => {
  it('looks at once, then once per interval', () => {
    const watch = new StreamWatch();
    expect(watch.due(0)).toBe(true);
    watch.look('95-0', info({}), 1000);
    expect(watch.due(1000 + STREAM_INFO_INTERVAL_MS - 1)).toBe(false);
    expect(watch.due(1000 + STREAM_INFO_INTERVAL_MS)).toBe(true);
  });

  it('a lost peer is looked at again as soon as it answers, whatever the interval', () => {
    const watch = new StreamWatch();
    watch.look('95-0', info({}), 1000);
    watch.peerLost();
    expect(watch.due(1001)).toBe(true);
  });

  it('reports each gap once across looks', () => {
    const watch = new StreamWatch();
    const trimmed = info({ maxDeletedId: '96-0' });
    expect(watch.look('95-0', trimmed, 0)).toMatchObject({ kind: 'trimmed' });
    expect(watch.look('95-0', trimmed, 2000)).toBeNull();
    expect(watch.look('95-0', info({}), 4000)).toBeNull();
    // The signal is kept: the same gap coming back (same ids) stays reported once.
    expect(watch.look('95-0', trimmed, 6000)).toBeNull();
  });
});
