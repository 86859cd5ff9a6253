/**
 * The cold path's words for what happened, one level each (docs/cold-path.md):
 *
 * - RepairRun (repair.ts): what one repair with a peer did.
 * - RepairOutcome: what the scheduler did with a peer when asked: ran a repair, or skipped it and why.
 * - LastRepair: the newest outcome that counts, as `/status` shows it (`last_repair`).
 * - RepairResult: the result of a run as metrics and `/status` name it.
 */
import type { RefusalReason, RepairRun } from './repair.js';

export type RepairResult = 'in_sync' | 'repaired' | 'partial' | 'failed';

export type ColdPathSkipReason =
  | 'catching_up'
  | 'circuit_open'
  | 'backoff'
  /** The local store is above its memory threshold (the hot path pauses too). */
  | 'backpressure'
  | RefusalReason
  /** Asked while stop() is in progress. Not counted in metrics. */
  | 'stopped'
  /** No such peer (or removed meanwhile). Not counted in metrics. */
  | 'unknown_peer';

export type RepairOutcome =
  | {
    peerId: string;
    result: RepairResult;
    /** Ran as a requested repair (RepairTrigger 'requested': ignoring backoff, catching-up and the root cache). */
    requested: boolean;
    /** The run; null when the attempt failed before a repair could start (e.g. a peer callback threw). */
    outcome: Exclude<RepairRun, { result: 'refused' }> | null;
    /** `code: message` when result is failed. */
    error: string | null;
  }
  | {
    peerId: string;
    result: 'skipped';
    reason: ColdPathSkipReason;
    requested: boolean;
  };

/** One peer's `last_repair` in `/status` (snake_case JSON, like the configuration). */
export interface LastRepair {
  /** ISO-8601 time the cycle ended. */
  at: string;
  result: RepairResult;
  /** Keys fetched from the peer and applied. */
  items: number;
  /** Present when result is "failed" or the cycle was skipped. */
  error?: string;
}
