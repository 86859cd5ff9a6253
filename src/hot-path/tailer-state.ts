/**
 * The tailer's state, named, with every transition in `transition` (docs/hot-path.md, "The
 * tailer, step by step"). Two things are tracked at once and kept apart on purpose:
 *
 * - the **flow** — what the next loop step does: read, stay paused (and why), or recover from a
 *   failed apply (drain the window, go back to the durable cursor, back off);
 * - the **lifecycle** — running, stopping (the loop finishes its step and drains the window) or
 *   stopped. A stop keeps the flow it interrupted (`resume`), so a restart carries on where the
 *   loop was: still paused, or still owing the back-off of a failed apply.
 *
 * A failed apply is reported by the apply window's finishing, asynchronously, in any state: it
 * remembers the pause the tailer was in (`paused`), which is still reported while it recovers and
 * taken up again afterwards, exactly as when the apply had not failed.
 */

export type PauseReason = 'backpressure' | 'circuit_open';

export type TailerFlow =
  | { readonly kind: 'reading' }
  | { readonly kind: 'paused'; readonly reason: PauseReason }
  /** An apply failed: the loop drains the window, reads again from the durable cursor after a back-off. */
  | { readonly kind: 'retrying'; readonly paused: PauseReason | null };

export type TailerState =
  | TailerFlow
  | { readonly kind: 'stopping' | 'stopped'; readonly resume: TailerFlow };

export type TailerEvent =
  | { readonly type: 'start' }
  | { readonly type: 'stop' }
  /** The loop has ended and the window is drained. */
  | { readonly type: 'stopped' }
  | { readonly type: 'pause'; readonly reason: PauseReason }
  /** The local store accepts writes again: the pause, if any, is over. */
  | { readonly type: 'accepting' }
  | { readonly type: 'apply_failed' }
  /** The window after a failed apply is drained and the reads rewound: the back-off begins. */
  | { readonly type: 'retried' };

const READING: TailerFlow = { kind: 'reading' };
const PAUSED: Record<PauseReason, TailerFlow> = {
  backpressure: { kind: 'paused', reason: 'backpressure' },
  circuit_open: { kind: 'paused', reason: 'circuit_open' },
};

/** A tailer that was never started: stopped, reading once started. */
export const INITIAL_TAILER_STATE: TailerState = { kind: 'stopped', resume: READING };

/** The flow the tailer is in, or resumes with once started again. */
export function flowOf(state: TailerState): TailerFlow {
  return 'resume' in state ? state.resume : state;
}

/** The pause the status reports: the flow's, also while it recovers from a failed apply. */
export function pauseOf(state: TailerState): PauseReason | null {
  const flow = flowOf(state);
  if (flow.kind === 'paused') return flow.reason;
  return flow.kind === 'retrying' ? flow.paused : null;
}

/** The loop is to end (or has): a stop was asked for and no start since. */
export function isStopping(state: TailerState): boolean {
  return state.kind === 'stopping' || state.kind === 'stopped';
}

/** An apply failed and the loop has not yet backed off from it (also across a stop). */
export function isRetrying(state: TailerState): boolean {
  return flowOf(state).kind === 'retrying';
}

function nextFlow(flow: TailerFlow, event: TailerEvent): TailerFlow {
  switch (event.type) {
    case 'pause':
      if (flow.kind === 'retrying') return flow.paused === event.reason ? flow : { kind: 'retrying', paused: event.reason };
      return PAUSED[event.reason];
    case 'accepting':
      if (flow.kind === 'retrying') return flow.paused === null ? flow : { kind: 'retrying', paused: null };
      return READING;
    case 'apply_failed':
      return flow.kind === 'retrying' ? flow : { kind: 'retrying', paused: flow.kind === 'paused' ? flow.reason : null };
    case 'retried':
      if (flow.kind !== 'retrying') return flow;
      return flow.paused === null ? READING : PAUSED[flow.paused];
    default:
      return flow;
  }
}

export function transition(state: TailerState, event: TailerEvent): TailerState {
  switch (event.type) {
    case 'start':
      return isStopping(state) ? flowOf(state) : state;
    case 'stop':
      return 'resume' in state ? state : { kind: 'stopping', resume: state };
    case 'stopped':
      // Only a stop under way ends: a start that came first (stop() awaits the loop) stands.
      return state.kind === 'stopping' ? { kind: 'stopped', resume: state.resume } : state;
    default: {
      const flow = flowOf(state);
      const next = nextFlow(flow, event);
      if (next === flow) return state;
      return 'resume' in state ? { kind: state.kind, resume: next } : next;
    }
  }
}
