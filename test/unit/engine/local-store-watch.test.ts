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

function watch(answers: (StoreDataState | Error)[], cursors: CursorStore): { w: LocalStoreWatch; repairs: number[] } {
  const repairs: number[] = [];
  const store = {
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
