// The repair policy over any sequence of attempts: a requested repair is deferred, never dropped.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pendingAfterSkip, planRepair, requested, SCHEDULED, type RepairReason, type RequestedTrigger } from '../../../src/cold-path/repair-policy.js';

const reason = fc.constantFrom<RepairReason>('trimmed', 'peer_behind', 'future_stamp', 'local_data_loss');
/** One attempt: what asked for it, and whether its first gate (if any) stops it. */
const attempt = fc.record({ asked: fc.option(reason, { nil: null }), stoppedByGate: fc.boolean() });

describe('repair policy', () => {
  it('after a request, every attempt runs as a request until one runs; scheduled gates never stop a request', () => {
    fc.assert(fc.property(fc.array(attempt, { maxLength: 30 }), (attempts) => {
      let pending: RequestedTrigger | null = null;
      let lastAsked: RepairReason | null = null;
      for (const { asked, stoppedByGate } of attempts) {
        const plan = planRepair(asked === null ? SCHEDULED : requested(asked), pending);
        if (asked !== null) lastAsked = asked;
        const owed = lastAsked !== null;
        expect(plan.trigger.kind).toBe(owed ? 'requested' : 'scheduled');
        if (plan.trigger.kind === 'requested') {
          expect(plan.trigger.reason).toBe(lastAsked);
          expect(plan.gates).not.toContain('backoff');
          expect(plan.gates).not.toContain('catching_up');
          expect(plan.freshRoot).toBe(true);
        }
        // The circuit is always asked last: it may hand out its one half-open trial call.
        expect(plan.gates[plan.gates.length - 1]).toBe('circuit_open');
        if (stoppedByGate) {
          pending = pendingAfterSkip(plan);
        } else {
          pending = null; // it ran: the request is served
          lastAsked = null;
        }
      }
    }));
  });
});
