// The tailer's read positions and the entries it read beyond what it dispatched: a read-ahead or
// leftover is used only when it continues from the dispatched position.
import { describe, expect, it } from 'vitest';
import { ReadAhead, ReadPositions, type ReadBatch } from '../../../src/hot-path/read-ahead.js';
import type { RawStreamEntry } from '../../../src/peer/peer-connection.js';

const entries = (...ids: string[]): RawStreamEntry[] => ids.map((id) => ({ id, fields: [] }));
const batch = (from: string, ...ids: string[]): ReadBatch => ({ from, raw: entries(...ids), requested: ids.length, readMs: 1 });

/** What the tailer's loop does with them: the leftover, else a settled read-ahead if it continues; undefined: read now. */
async function next(ahead: ReadAhead, stopping = false): Promise<ReadBatch | null | undefined> {
  const leftover = ahead.takeLeftover(stopping);
  if (leftover) return leftover;
  const pending = ahead.takePending();
  if (!pending) return undefined;
  const result = await pending.result;
  return ahead.continues(pending) ? result : undefined;
}

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
  it('nothing read ahead: nothing taken', () => {
    const ahead = new ReadAhead(new ReadPositions('0-0'));
    expect(ahead.takeLeftover(false)).toBeNull();
    expect(ahead.takePending()).toBeNull();
  });

  it('a read-ahead from the dispatched id is used, once', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    positions.dispatch('3-0');
    const read = batch('3-0', '4-0');
    ahead.start('3-0', Promise.resolve(read));
    expect(positions.ahead).toBe('3-0');
    expect(await next(ahead)).toBe(read);
    expect(positions.ahead).toBeNull();
    expect(await next(ahead)).toBeUndefined();
  });

  it('a read-ahead from elsewhere (an apply failed, the reads rewound) is not used', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    positions.dispatch('3-0');
    ahead.start('3-0', Promise.resolve(batch('3-0', '4-0')));
    positions.rewind();
    expect(await next(ahead)).toBeUndefined();
  });

  it('whether a read-ahead continues is judged once it has settled, from the position then', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    positions.dispatch('3-0');
    ahead.start('3-0', Promise.resolve(batch('3-0', '4-0')));
    const pending = ahead.takePending()!;
    positions.rewind();
    await pending.result;
    expect(ahead.continues(pending)).toBe(false);
  });

  it('a failed read-ahead from the dispatched id is null (retried)', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    ahead.start('0-0', Promise.resolve(null));
    expect(await next(ahead)).toBeNull();
  });

  it('the rest of a read comes first, then the read-ahead that continues after it', async () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    const read = entries('1-0', '2-0', '3-0');
    const after = batch('3-0', '4-0');
    ahead.start('3-0', Promise.resolve(after));
    positions.dispatch('1-0');
    ahead.keepRest(read, 1);
    const rest = await next(ahead);
    expect(rest).toMatchObject({ from: '1-0', leftover: true, requested: 0 });
    expect(rest!.raw.map((e) => e.id)).toEqual(['2-0', '3-0']);
    positions.dispatch('3-0');
    ahead.keepRest(rest!.raw, 2);
    expect(await next(ahead)).toBe(after);
  });

  it('the rest is dropped when the reads were rewound, or when stopping', () => {
    const positions = new ReadPositions('0-0');
    const ahead = new ReadAhead(positions);
    positions.dispatch('1-0');
    ahead.keepRest(entries('1-0', '2-0'), 1);
    positions.rewind();
    expect(ahead.takeLeftover(false)).toBeNull();
    positions.dispatch('1-0');
    ahead.keepRest(entries('1-0', '2-0'), 1);
    expect(ahead.takeLeftover(true)).toBeNull();
    expect(ahead.takeLeftover(false)).toBeNull();
  });
});
