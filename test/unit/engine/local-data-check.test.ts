import { describe, expect, it } from 'vitest';
import { localDataChange } from '../../../src/engine/local-data-check.js';
import type { StoreDataState } from '../../../src/store/local-store.js';

const base: StoreDataState = { incarnation: 'a', fresh: false, epoch: 10, serverRunId: 'r1', clock: '0000001700000000-00000' };

describe('localDataChange', () => {
  it('is nothing when the epoch moved on under the same incarnation and server', () => {
    expect(localDataChange(base, { ...base, epoch: 11 })).toBeNull();
    // A check whose reply was lost after Redis ran it leaves the epoch two ahead: not a loss.
    expect(localDataChange(base, { ...base, epoch: 12 })).toBeNull();
    // A server that does not say its run id is not taken for a restart.
    expect(localDataChange(base, { ...base, epoch: 11, serverRunId: null })).toBeNull();
  });

  it('is a loss under a new incarnation, whatever the epoch', () => {
    expect(localDataChange(base, { ...base, incarnation: 'b', fresh: true, epoch: 1 })?.kind).toBe('lost');
    expect(localDataChange(base, { ...base, incarnation: 'b', epoch: 99 })?.kind).toBe('lost');
  });

  it('is going back in time when the epoch is not above the last one seen', () => {
    expect(localDataChange(base, { ...base, epoch: 10 })?.kind).toBe('went_back');
    expect(localDataChange(base, { ...base, epoch: 3, serverRunId: 'r2' })?.kind).toBe('went_back');
  });

  it('is a restart when only the server run id changed', () => {
    expect(localDataChange(base, { ...base, epoch: 11, serverRunId: 'r2' })?.kind).toBe('restarted');
  });
});
