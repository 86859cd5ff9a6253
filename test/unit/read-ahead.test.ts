// The tailer's read positions and the entries it read beyond what it dispatched: a read-ahead or
// leftover is used only when it continues from the dispatched position.
import { describe, expect, it } from 'vitest';
import { ReadAhead, ReadPositions, type ReadBatch } from '../../src/hot-path/read-ahead.js';
import type { RawStreamEntry } from '../../src/peer/peer-connection.js';

const entries = (...ids: string[]): RawStreamEntry[] => ids.map((id) => ({ id, fields: [] }));
const batch = (from: string, ...ids: string[]): ReadBatch => ({ from, raw: entries(...ids), requested: ids.length, readMs: 1 });

describe('ReadPositions', () => {
  it('dispatching moves only the dispatched id; a rewind goes back to the durable one', () => {
    const p = new ReadPositions('5-0');
    p.dispatch('9-0');
    expect([p.durable, p.dispatched]).toEqual(['5-0', '9-0']);
    p.durable = '7-0';
    p.rewind();
    expect([p.durable, p.dispatched]).toEqual(['7-0', '7-0']);
    p.reset('0-0');
    expect([p.durable, p.dispatched]).toEqual(['0-0', '0-0']);
  });
});

describe('ReadAhead', () => {
  it('nothing read ahead: undefined (read now)', async () => {
    const ahead = new ReadAhead(new ReadPositions('0-0'));
    expect(await ahead.take(false)).toBeUndefined();
  });

  it('a read-ahead from the dispatched id is used, once', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    positions.dispatch('3-0');
    const next = batch('3-0', '4-0');
    ahead.start('3-0', Promise.resolve(next));
    expect(positions.ahead).toBe('3-0');
    expect(await ahead.take(false)).toBe(next);
    expect(positions.ahead).toBeNull();
    expect(await ahead.take(false)).toBeUndefined();
  });

  it('a read-ahead from elsewhere (an apply failed, the reads rewound) is awaited and dropped', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    positions.dispatch('3-0');
    let settled = false;
    let resolve!: (b: ReadBatch) => void;
    ahead.start('3-0', new Promise<ReadBatch>((r) => { resolve = r; }));
    positions.rewind();
    const taken = ahead.take(false).then((b) => ({ b, settled }));
    settled = true;
    resolve(batch('3-0', '4-0'));
    // Only once the read-ahead settled: two reads never queue on the stream connection.
    expect(await taken).toEqual({ b: undefined, settled: true });
  });

  it('a failed read-ahead from the dispatched id is null (retried)', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    ahead.start('0-0', Promise.resolve(null));
    expect(await ahead.take(false)).toBeNull();
  });

  it('the rest of a read comes first, then the read-ahead that continues after it', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    const read = entries('1-0', '2-0', '3-0');
    const next = batch('3-0', '4-0');
    ahead.start('3-0', Promise.resolve(next));
    positions.dispatch('1-0');
    ahead.keepRest(read, 1);
    const rest = await ahead.take(false);
    expect(rest).toMatchObject({ from: '1-0', leftover: true, requested: 0 });
    expect(rest!.raw.map((e) => e.id)).toEqual(['2-0', '3-0']);
    positions.dispatch('3-0');
    ahead.keepRest(rest!.raw, 2);
    expect(await ahead.take(false)).toBe(next);
  });

  it('the rest is dropped when the reads were rewound, or when stopping', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    positions.dispatch('1-0');
    ahead.keepRest(entries('1-0', '2-0'), 1);
    positions.rewind();
    expect(await ahead.take(false)).toBeUndefined();
    positions.dispatch('1-0');
    ahead.keepRest(entries('1-0', '2-0'), 1);
    expect(await ahead.take(true)).toBeUndefined();
  });
});
