/**
 * The outcome log: what the scheduler remembers of each peer's repairs (consecutive failures and
 * the backoff they set, where a budget-cut repair stopped, whether the peer is refused, the last
 * repair for `/status`), and the metrics and log lines of every outcome. Deciding whether to run is
 * repair-policy.ts; running is scheduler.ts.
 */
import type { ColdPathSettings } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { EngineMetrics } from '../observability/metrics.js';
import { ExponentialBackoff } from '../peer/backoff.js';
import type { RefusalReason, RepairRun } from './repair.js';
import type { ColdPathSkipReason, LastRepair, RepairOutcome, RepairResult } from './repair-outcome.js';

/** One peer's record. */
export interface PeerRepairRecord {
  /** Consecutive failed repairs. */
  failures: number;
  /** Scheduled repairs wait until then (backoff). */
  retryAt: number;
  /** Where the last budget-cut repair stopped. */
  resumeBranch: string | null;
  /** Set while the peer is refused, so the reason is logged once. */
  refused: RefusalReason | null;
  last: LastRepair | null;
}

type Refused = Extract<RepairRun, { result: 'refused' }>;
type Failed = Extract<RepairRun, { result: 'failed' }>;
type Done = Exclude<RepairRun, Refused | Failed>;

/** Why an attempt failed: the text kept in status, and the error itself for the log (pino keeps its stack). */
export interface RepairFailure {
  text: string;
  err: unknown;
}

export interface RepairLogDeps {
  metrics: EngineMetrics;
  logger: Logger;
  now: () => number;
  settings: ColdPathSettings;
}

export class RepairLog {
  private readonly records = new Map<string, PeerRepairRecord>();
  private readonly metrics: EngineMetrics;
  private readonly logger: Logger;
  private readonly now: () => number;
  private backoff: ExponentialBackoff;

  constructor(deps: RepairLogDeps) {
    this.metrics = deps.metrics;
    this.logger = deps.logger;
    this.now = deps.now;
    this.backoff = makeBackoff(deps.settings);
  }

  /** Keeps the records of these peers (new ones start clean) and drops every other. */
  keep(peerIds: ReadonlySet<string>): void {
    for (const id of this.records.keys()) if (!peerIds.has(id)) this.records.delete(id);
    for (const id of peerIds) {
      if (!this.records.has(id)) this.records.set(id, { failures: 0, retryAt: 0, resumeBranch: null, refused: null, last: null });
    }
  }

  record(peerId: string): PeerRepairRecord | undefined {
    return this.records.get(peerId);
  }

  last(peerId: string): LastRepair | null {
    return this.records.get(peerId)?.last ?? null;
  }

  updateSettings(settings: ColdPathSettings): void {
    this.backoff = makeBackoff(settings);
  }

  skipped(peerId: string, reason: ColdPathSkipReason, requested: boolean): RepairOutcome {
    this.metrics.repairSkipped.labels(peerId, reason).inc();
    this.logger.debug({ peer_id: peerId, reason }, 'cold-path repair skipped');
    return { peerId, result: 'skipped', reason, requested };
  }

  /** A run that was not refused: a refused peer is comparable again. */
  comparable(record: PeerRepairRecord, peerId: string): void {
    if (!record.refused) return;
    this.logger.info({ peer_id: peerId }, 'peer tree is comparable again: cold path resumes');
    record.refused = null;
  }

  refused(record: PeerRepairRecord, run: Refused, requested: boolean): RepairOutcome {
    const peerId = run.peerId;
    record.failures = 0;
    record.retryAt = 0;
    record.resumeBranch = null;
    if (record.refused !== run.reason) {
      // Once per change of state, not every cycle: the metric counts every cycle.
      this.logger.warn(
        { peer_id: peerId, reason: run.reason, peer_format: run.peerFormat, local_format: run.localFormat },
        `${run.message}; the hot path is unaffected`,
      );
      record.refused = run.reason;
    }
    record.last = { at: this.isoNow(), result: 'failed', items: 0, error: `${run.reason}: ${run.message}` };
    return this.skipped(peerId, run.reason, requested);
  }

  succeeded(record: PeerRepairRecord, run: Done, requested: boolean): RepairOutcome {
    const peerId = run.peerId;
    record.failures = 0;
    record.retryAt = 0;
    record.resumeBranch = run.report.resumeBranch;
    this.count(peerId, run.result, run);
    record.last = { at: this.isoNow(), result: run.result, items: run.applied };
    const fields = {
      peer_id: peerId, result: run.result, requested, fetched: run.fetched, submitted: run.submitted,
      applied: run.applied, peer_wins: run.report.peerWins, local_wins: run.report.localWins,
      conflicts: run.report.conflicts, round_trips: run.report.roundTrips, duration_ms: run.durationMs,
      ...(run.rejected.length ? { rejected: run.rejected.slice(0, 10) } : {}),
    };
    if (run.result === 'in_sync') this.logger.debug(fields, 'cold path: in sync with peer');
    else this.logger.info(fields, run.result === 'partial' ? 'cold path: repaired part (budget reached; the rest next cycle)' : 'cold path: repaired');
    if (run.deferred > 0) {
      this.metrics.futureStamps.labels(peerId, 'cold').inc(run.deferred);
      this.logger.warn({ peer_id: peerId, deferred: run.deferred, changes: run.deferredKeys },
        'cold path: changes stamped too far ahead of the local clock left on the peer until the clock catches up');
    }
    if (run.report.conflicts > 0) {
      this.logger.warn({ peer_id: peerId, conflicts: run.report.conflicts }, 'cold path: keys with equal stamps but different content (left alone)');
    }
    return { peerId, result: run.result, requested, outcome: run, error: null };
  }

  /** A failed run, or (run null) an attempt that failed before a repair could start. Sets the backoff. */
  failed(record: PeerRepairRecord, peerId: string, run: Failed | null, failure: RepairFailure, requested: boolean): RepairOutcome {
    const error = failure.text;
    record.failures += 1;
    const delay = this.backoff.delay(record.failures - 1);
    record.retryAt = this.now() + delay;
    this.count(peerId, 'failed', run);
    record.last = { at: this.isoNow(), result: 'failed', items: run?.applied ?? 0, error };
    this.logger.warn({ peer_id: peerId, requested, err: failure.err, failures: record.failures, retry_in_ms: delay }, `cold-path repair failed: ${error}`);
    return { peerId, result: 'failed', requested, outcome: run, error };
  }

  private count(peerId: string, result: RepairResult, run: Done | Failed | null): void {
    if (!this.records.has(peerId)) return; // removed meanwhile: its series are gone, don't recreate them
    const m = this.metrics;
    m.repairCycles.labels(peerId, result).inc();
    if (!run) return;
    m.repairItemsFetched.labels(peerId).inc(run.fetched);
    m.repairItemsSubmitted.labels(peerId).inc(run.submitted);
    // Branches, not comparisons: a cycle whose roots differ only where the peer must pull from us
    // still counts what differs, and one that differs in many places counts each place.
    const branches = run.report?.divergentBranches ?? 0;
    if (branches > 0) m.merkleDivergences.labels(peerId).inc(branches);
    m.repairDuration.labels(peerId).observe(run.durationMs / 1000);
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }
}

/** Deterministic capped doubling: one scheduler per node, nothing to de-synchronize. */
function makeBackoff(settings: ColdPathSettings): ExponentialBackoff {
  return new ExponentialBackoff({ baseMs: settings.backoff_base_sec * 1000, maxMs: settings.backoff_max_sec * 1000, jitter: 'none' });
}
