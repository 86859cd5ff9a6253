/**
 * Why a repair with a peer runs, and what must hold before it does (pure; the scheduler does the
 * I/O). Two triggers:
 *
 * - `scheduled`: the periodic cycle, or `repairNow()`. It waits out backoff and a hot path that is
 *   catching up, and may trust a peer root read a few seconds ago.
 * - `requested`: "this peer needs repairing" (a stream gap, a change held back as too far ahead,
 *   the local store losing data). It runs at once: only the local store refusing writes or the
 *   peer's open circuit stop it, and then it stays pending.
 *
 * A pending request is served by the next attempt that can run, scheduled or not: planRepair
 * makes that promotion explicit in the trigger it returns. See docs/cold-path.md, "The scheduler".
 */

/** What asked for a requested repair: a hot-path gap kind, a held-back far-future change, or a local data loss. */
export type RepairReason = 'trimmed' | 'peer_behind' | 'future_stamp' | 'local_data_loss';

export type RepairTrigger = { kind: 'scheduled' } | { kind: 'requested'; reason: RepairReason };
export type RequestedTrigger = Extract<RepairTrigger, { kind: 'requested' }>;

export const SCHEDULED: RepairTrigger = Object.freeze({ kind: 'scheduled' });

export function requested(reason: RepairReason): RequestedTrigger {
  return { kind: 'requested', reason };
}

/**
 * A condition checked before a repair; the first that holds skips it (and names the skip).
 * - backoff: the peer failed recently and its retry time has not come.
 * - catching_up: the peer's hot path is working through a backlog that will deliver what a repair would fetch.
 * - backpressure: the local store is above its memory threshold.
 * - circuit_open: the peer's circuit breaker allows no call.
 */
export type RepairGate = 'backoff' | 'catching_up' | 'backpressure' | 'circuit_open';

export interface RepairPlan {
  /** What the attempt runs as. */
  trigger: RepairTrigger;
  /**
   * Checked in this order. Backpressure comes before the circuit: asking the circuit may hand out
   * its one half-open trial call, which must not be spent on a repair that is then not made.
   */
  gates: readonly RepairGate[];
  /** Read the peer's root afresh: a cached root equal to ours would wrongly say "in sync" after a gap. */
  freshRoot: boolean;
}

const SCHEDULED_GATES: readonly RepairGate[] = Object.freeze(['backoff', 'catching_up', 'backpressure', 'circuit_open']);
/** Only what would make the repair itself fail or harm: nothing else can fill a gap. */
const REQUESTED_GATES: readonly RepairGate[] = Object.freeze(['backpressure', 'circuit_open']);

/** The plan for one attempt, asked as `asked`, with `pending` the request an earlier attempt deferred (or null). */
export function planRepair(asked: RepairTrigger, pending: RequestedTrigger | null): RepairPlan {
  const trigger: RepairTrigger = asked.kind === 'requested' ? asked : pending ?? SCHEDULED;
  const isRequested = trigger.kind === 'requested';
  return { trigger, gates: isRequested ? REQUESTED_GATES : SCHEDULED_GATES, freshRoot: isRequested };
}

/** The request left pending after an attempt stopped at a gate: a requested repair is deferred, never dropped. */
export function pendingAfterSkip(plan: RepairPlan): RequestedTrigger | null {
  return plan.trigger.kind === 'requested' ? plan.trigger : null;
}
