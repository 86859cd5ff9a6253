// The tailer's named state against the flags it replaced (a stop flag, an apply-failed flag and the
// reported pause, each set by the loop as before): every sequence of events reports the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  INITIAL_TAILER_STATE, flowOf, isRetrying, isStopping, pauseOf, transition, type PauseReason, type TailerEvent, type TailerState,
} from '../../../src/hot-path/tailer-state.js';

interface Flags { stopping: boolean; applyFailed: boolean; paused: PauseReason | null }

/** What the loop did to its flags on each event. */
function reference(flags: Flags, event: TailerEvent): Flags {
  switch (event.type) {
    case 'start':
      return { ...flags, stopping: false };
    case 'stop':
      return { ...flags, stopping: true };
    case 'stopped':
      return flags;
    case 'pause':
      return { ...flags, paused: event.reason };
    case 'accepting':
      return { ...flags, paused: null };
    case 'apply_failed':
      return { ...flags, applyFailed: true };
    case 'retried':
      return { ...flags, applyFailed: false };
  }
}

const reasonArb = fc.constantFrom<PauseReason>('backpressure', 'circuit_open');
const eventArb: fc.Arbitrary<TailerEvent> = fc.oneof(
  fc.constantFrom<TailerEvent>({ type: 'start' }, { type: 'stop' }, { type: 'stopped' }, { type: 'accepting' }, { type: 'apply_failed' }, { type: 'retried' }),
  reasonArb.map((reason): TailerEvent => ({ type: 'pause', reason })),
);

describe('tailer state', () => {
  it('reports what the old flags reported, for any sequence of events', () => {
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 60 }), (events) => {
      let state: TailerState = INITIAL_TAILER_STATE;
      let flags: Flags = { stopping: true, applyFailed: false, paused: null };
      for (const event of events) {
        state = transition(state, event);
        flags = reference(flags, event);
        expect(isStopping(state)).toBe(flags.stopping);
        expect(isRetrying(state)).toBe(flags.applyFailed);
        expect(pauseOf(state)).toBe(flags.paused);
      }
    }), { numRuns: 500 });
  });

  it('a stop keeps the flow it interrupted, and a start resumes it', () => {
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 30 }), (events) => {
      let state: TailerState = transition(INITIAL_TAILER_STATE, { type: 'start' });
      for (const event of events) state = transition(state, event);
      if (isStopping(state)) return;
      const stopped = transition(transition(state, { type: 'stop' }), { type: 'stopped' });
      expect(stopped.kind).toBe('stopped');
      expect(flowOf(stopped)).toEqual(state);
      expect(transition(stopped, { type: 'start' })).toEqual(state);
    }));
  });

  it('starts stopped, and reading once started', () => {
    expect(isStopping(INITIAL_TAILER_STATE)).toBe(true);
    expect(transition(INITIAL_TAILER_STATE, { type: 'start' })).toEqual({ kind: 'reading' });
  });

  it('recovering from a failed apply still reports the pause, and takes it up again after the back-off', () => {
    let state: TailerState = transition(INITIAL_TAILER_STATE, { type: 'start' });
    state = transition(state, { type: 'pause', reason: 'backpressure' });
    state = transition(state, { type: 'apply_failed' });
    expect(state).toEqual({ kind: 'retrying', paused: 'backpressure' });
    expect(pauseOf(state)).toBe('backpressure');
    expect(transition(state, { type: 'retried' })).toEqual({ kind: 'paused', reason: 'backpressure' });
  });

  it('a stop that a start overtook does not end the new run', () => {
    // stop() awaits the loop; a start in between (no loop yet) stands.
    const started = transition(transition(INITIAL_TAILER_STATE, { type: 'stop' }), { type: 'start' });
    expect(transition(started, { type: 'stopped' })).toEqual({ kind: 'reading' });
  });
});
