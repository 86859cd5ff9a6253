// RepairQueue: one job per peer at a time, merged requests, never a rejection, drain().
import { describe, expect, it } from 'vitest';
import { RepairQueue } from '../../../src/cold-path/repair-queue.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const crashed = (err: unknown): string => `crashed: ${err instanceof Error ? err.message : String(err)}`;

describe('RepairQueue', () => {
  it('runs one peer\'s jobs one after another, in order, while another peer\'s run alongside', async () => {
    const q = new RepairQueue<string>();
    q.open('a');
    q.open('b');
    const log: string[] = [];
    const first = gate();
    const a1 = q.push('a', async () => {
      log.push('a1 start');
      await first.promise;
      log.push('a1 end');
      return 'a1';
    }, { merge: false, crashed });
    const a2 = q.push('a', async () => {
      log.push('a2 start');
      return 'a2';
    }, { merge: false, crashed });
    const b1 = q.push('b', async () => {
      log.push('b1 start');
      return 'b1';
    }, { merge: false, crashed });
    expect(await b1).toBe('b1');
    expect(log).toEqual(['a1 start', 'b1 start']);
    first.open();
    expect(await Promise.all([a1, a2])).toEqual(['a1', 'a2']);
    expect(log).toEqual(['a1 start', 'b1 start', 'a1 end', 'a2 start']);
  });

  it('merges jobs queued and not started yet; a job queued once the merged one started runs again', async () => {
    const q = new RepairQueue<number>();
    q.open('a');
    const blocker = gate();
    let runs = 0;
    const job = async (): Promise<number> => ++runs;
    const busy = q.push('a', async () => {
      await blocker.promise;
      return 0;
    }, { merge: false, crashed: () => -1 });
    const r1 = q.push('a', job, { merge: true, crashed: () => -1 });
    const r2 = q.push('a', job, { merge: true, crashed: () => -1 });
    expect(r2).toBe(r1);
    blocker.open();
    await busy;
    expect(await r1).toBe(1);
    expect(await q.push('a', job, { merge: true, crashed: () => -1 })).toBe(2);
  });

  it('a job that throws resolves to crashed(err) and does not block the next one', async () => {
    const q = new RepairQueue<string>();
    q.open('a');
    const bad = q.push('a', async () => {
      throw new Error('boom');
    }, { merge: false, crashed });
    const next = q.push('a', async () => 'ok', { merge: false, crashed });
    expect(await bad).toBe('crashed: boom');
    expect(await next).toBe('ok');
  });

  it('drain() waits for every job, including those queued while draining', async () => {
    const q = new RepairQueue<string>();
    q.open('a');
    const first = gate();
    const done: string[] = [];
    void q.push('a', async () => {
      await first.promise;
      void q.push('a', async () => {
        done.push('second');
        return 'second';
      }, { merge: false, crashed });
      done.push('first');
      return 'first';
    }, { merge: false, crashed });
    let drained = false;
    const draining = q.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    first.open();
    await draining;
    expect(done).toEqual(['first', 'second']);
  });

  it('close() forgets a peer: open again, it starts a new queue', () => {
    const q = new RepairQueue<string>();
    expect(q.isOpen('a')).toBe(false);
    q.open('a');
    expect(q.isOpen('a')).toBe(true);
    q.close('a');
    expect(q.isOpen('a')).toBe(false);
  });
});
