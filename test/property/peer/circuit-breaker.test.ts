import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CircuitBreaker, type CircuitState } from '../../../src/peer/circuit-breaker.js';

type Event = { kind: 'advance'; ms: number } | { kind: 'canRequest' } | { kind: 'success' } | { kind: 'failure' };

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.nat({ max: 3000 }) }),
  fc.constant({ kind: 'canRequest' as const }),
  fc.constant({ kind: 'success' as const }),
  fc.constant({ kind: 'failure' as const }),
);

/** The specification, written as plainly as possible. */
class Model {
  state: CircuitState = 'closed';
  failures = 0;
  since = 0; // when opened, or when the current trial went out
  constructor(private readonly threshold: number, private readonly timeout: number) {}

  canRequest(t: number): boolean {
    if (this.state === 'closed') return true;
    if (t - this.since < this.timeout) return false;
    this.state = 'half_open';
    this.since = t;
    return true;
  }
  success(): void {
    this.state = 'closed';
    this.failures = 0;
  }
  failure(t: number): void {
    if (this.state === 'open') return;
    this.failures++;
    if (this.state === 'half_open' || this.failures >= this.threshold) {
      this.state = 'open';
      this.since = t;
    }
  }
}

describe('CircuitBreaker properties', () => {
  it('agrees with a reference model on any event sequence', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2000 }), fc.array(eventArb, { maxLength: 100 }), (threshold, timeout, events) => {
        let t = 0;
        const cb = new CircuitBreaker({ failureThreshold: threshold, resetTimeoutMs: timeout, now: () => t });
        const model = new Model(threshold, timeout);
        const seen: CircuitState[] = [];
        cb.onChange((to, from) => {
          expect(to).not.toBe(from);
          seen.push(to);
        });
        let prev = model.state;
        const expected: CircuitState[] = [];
        for (const e of events) {
          switch (e.kind) {
            case 'advance':
              t += e.ms;
              break;
            case 'canRequest':
              expect(cb.canRequest()).toBe(model.canRequest(t));
              break;
            case 'success':
              cb.onSuccess();
              model.success();
              break;
            case 'failure':
              cb.onFailure();
              model.failure(t);
              break;
          }
          if (model.state !== prev) expected.push(model.state);
          prev = model.state;
          expect(cb.state).toBe(model.state);
        }
        expect(seen).toEqual(expected);
      }),
    );
  });

  it('while not closed, lets at most one call through per reset timeout', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 150 }), (events) => {
        let t = 0;
        const timeout = 500;
        const cb = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: timeout, now: () => t });
        let lastGate = 0; // when it last opened, or when a trial last went out
        cb.onChange((to) => {
          if (to === 'open') lastGate = t;
        });
        for (const e of events) {
          if (e.kind === 'advance') t += e.ms;
          else if (e.kind === 'success') cb.onSuccess();
          else if (e.kind === 'failure') cb.onFailure();
          else {
            const before = cb.state;
            const allowed = cb.canRequest();
            if (before === 'closed') expect(allowed).toBe(true);
            else if (allowed) {
              expect(t - lastGate).toBeGreaterThanOrEqual(timeout);
              lastGate = t;
            }
          }
        }
      }),
    );
  });
});
