// LocalStoreWatch (engine/local-store-watch.ts) when the local Redis blinks while the engine starts: the start
// goes on, and the first check that succeeds makes the comparison with what the last run saw.
import { describe, expect, it } from 'vitest';
import { LocalStoreWatch } from '../../../src/engine/local-store-watch.js';
import { EngineMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { CursorStore } from '../../../src/cursor/cursor-store.js';
import type { LocalStore, StoreDataState } from '../../../src/store/local-store.js';

function cursorsWith(state: StoreDataState | null): CursorStore {
  const values = new Map<string, string>(state ? [['local_store', JSON.stringify(state)]] : []);
  return {
    get: () => null, set: () => undefined, delete: () => undefined, close: () => undefined,
    all: () => new Map([['peer-a', '1-0']]),
    getState: (name) => values.get(name) ?? null,
    setState: (name, value) => void values.set(name, value),
  };
}

function watch(answers: (StoreDataState | Error)[], cursors: CursorStore, extra: Partial<LocalStore> = {}): { w: LocalStoreWatch; repairs: number[] } {
  const repairs: number[] = [];
  const store = {
    ...extra,
    checkData: () => {
      const next = answers.shift();
      return next instanceof Error || next === undefined ? Promise.reject(next ?? new Error('no answer')) : Promise.resolve(next);
    },
    keyCount: () => Promise.resolve(0),
  } as unknown as LocalStore;
  const w = new LocalStoreWatch({
    store, metrics: new EngineMetrics(), logger: silentLogger(), cursors: () => cursors,
    isRunning: () => true, forgetRecentStamps: () => undefined,
    repairFromEveryPeer: () => {
      repairs.push(1);
      return ['peer-a'];
    },
  });
  return { w, repairs };
}

const seen: StoreDataState = { incarnation: 'old', fresh: false, epoch: 7, serverRunId: 'r1', clock: null };

describe('LocalStoreWatch at start', () => {
  it('a check that fails at start does not fail the start; the next one finds the loss', async () => {
    const cursors = cursorsWith(seen);
    const { w, repairs } = watch([new Error('connection dropped'), { incarnation: 'new', fresh: true, epoch: 1, serverRunId: 'r2', clock: null }], cursors);
    await expect(w.begin(cursors)).resolves.toBeUndefined();
    expect(repairs).toEqual([]);
    await w.check();
    expect(repairs).toEqual([1]);
  });

  it('a store restored from an older snapshot while the engine was down is found by the first check that succeeds', async () => {
    const cursors = cursorsWith(seen);
    const { w, repairs } = watch([new Error('LOADING'), { incarnation: 'old', fresh: false, epoch: 5, serverRunId: 'r2', clock: null }], cursors);
    await w.begin(cursors);
    await w.check();
    expect(repairs).toEqual([1]);
  });
});

describe('LocalStoreWatch after a loss while running', () => {
  // Every check advances the epoch; the last check before the flush saw the clock at 0001800000000000.
  const running = (epoch: number): StoreDataState => ({ incarnation: 'old', fresh: false, epoch, serverRunId: 'r1', clock: '0001800000000000-00000' });
  const flushed: StoreDataState = { incarnation: 'new', fresh: true, epoch: 1, serverRunId: 'r1', clock: null };

  it('raises the clock above the stamps written since the last check, not only to that check\'s clock', async () => {
    const raised: string[] = [];
    const cursors = cursorsWith(null);
    const { w, repairs } = watch([running(7), running(8), flushed], cursors, {
      raiseClock: (hlc: string) => Promise.resolve(raised.push(hlc) > 0),
      highestStamp: () => '0001800000001500-00003',
    });
    await w.begin(cursors);
    await w.check();
    await w.check();
    expect(repairs).toEqual([1]);
    expect(raised).toEqual(['0001800000001500-00003']);
  });

  it('raises it to the last check\'s clock when nothing newer was written', async () => {
    const raised: string[] = [];
    const cursors = cursorsWith(null);
    const { w } = watch([running(7), running(8), flushed], cursors, {
      raiseClock: (hlc: string) => Promise.resolve(raised.push(hlc) > 0),
      highestStamp: () => '0001700000000000-00000',
    });
    await w.begin(cursors);
    await w.check();
    await w.check();
    expect(raised).toEqual(['0001800000000000-00000']);
  });
});
