// The cold path's repair policy (pure): which trigger an attempt runs as, what it checks first.
import { describe, expect, it } from 'vitest';
import { pendingAfterSkip, planRepair, requested, SCHEDULED } from '../../../src/cold-path/repair-policy.js';

describe('planRepair', () => {
  it('a scheduled attempt waits out backoff and catching-up, checks the local store before the circuit, and may use the cached root', () => {
    expect(planRepair(SCHEDULED, null)).toEqual({
      trigger: { kind: 'scheduled' }, gates: ['backoff', 'catching_up', 'backpressure', 'circuit_open'], freshRoot: false,
    });
  });

  it('a requested repair is stopped only by backpressure or an open circuit, and reads the peer root afresh', () => {
    expect(planRepair(requested('trimmed'), null)).toEqual({
      trigger: { kind: 'requested', reason: 'trimmed' }, gates: ['backpressure', 'circuit_open'], freshRoot: true,
    });
  });

  it('a scheduled attempt with a deferred request pending runs as that request, explicitly', () => {
    const plan = planRepair(SCHEDULED, requested('peer_behind'));
    expect(plan.trigger).toEqual({ kind: 'requested', reason: 'peer_behind' });
    expect(plan.gates).toEqual(['backpressure', 'circuit_open']);
    expect(plan.freshRoot).toBe(true);
  });

  it('a new request is served under its own reason, not the older pending one', () => {
    expect(planRepair(requested('local_data_loss'), requested('trimmed')).trigger).toEqual({ kind: 'requested', reason: 'local_data_loss' });
  });

  it('a request stopped at a gate stays pending; a scheduled attempt leaves nothing pending', () => {
    expect(pendingAfterSkip(planRepair(requested('future_stamp'), null))).toEqual({ kind: 'requested', reason: 'future_stamp' });
    expect(pendingAfterSkip(planRepair(SCHEDULED, requested('trimmed')))).toEqual({ kind: 'requested', reason: 'trimmed' });
    expect(pendingAfterSkip(planRepair(SCHEDULED, null))).toBeNull();
  });
});
