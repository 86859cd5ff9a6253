/**
 * Runs the cold path (DESIGN §7): every `interval_sec` one cycle over the peers in priority
 * order, one repair per peer within the `max_items_per_cycle` budget, with per-peer backoff,
 * skips while a peer's hot path catches up, its circuit is open or the local store is above
 * its memory threshold (backpressure), and repairs asked for by
 * the hot path (a gap) run at once. All per-peer bookkeeping lives here; the repair itself
 * is repair.ts.
 *
 * `cold_path.enabled` governs the periodic loop only: a requested or on-demand repair runs
 * even when it is off (a gap has nothing else to fill it).
 *
 * Two ways to run a repair on demand:
 * - `repairNow(peerId?)`: a scheduled cycle, now — the same rules (backoff, catching-up,
 *   circuit, cached peer root). Tests and the HTTP/CLI layers drive cycles with it.
 * - `requestRepair(peerId, reason)`: "this peer needs repairing": runs at once, ignoring
 *   backoff, catching-up and the root cache. Only an open circuit (no calls to that peer at
 *   all) or backpressure defers it, and then it stays pending until a later cycle can run it.
 *
 * Repairs with one peer are serialized (never two at once); nothing throws out of it.
 */
import type { ColdPathSettings } from '../config/types.js';
import type { LastRepair } from '../engine/engine-status.js';
import { Sleeper } from '../hot-path/sleeper.js';
import type { Logger } from '../observability/logger.js';
import type { EngineMetrics, RepairResult } from '../observability/metrics.js';
import { ExponentialBackoff } from '../peer/backoff.js';
import type { StoreReader, SyncEngine } from '../store/sync-engine.js';
import { PeerRootCache } from './peer-root-cache.js';
import { repairWithPeer, type RefusalReason, type RepairAttempt, type RepairDone, type RepairFailed, type RepairRefused } from './repair.js';

/** What the engine tells the scheduler about one peer (closures over its tailer and circuit breaker). */
export interface ColdPathPeer {
  peerId: string;
  /** Lower runs first in a cycle; ties by peerId. */
  priority: number;
  reader: StoreReader;
  /** The peer's hot path is working through a backlog: scheduled repairs wait. */
  isCatchingUp(): boolean;
  /** The peer's circuit breaker allows a call (half-open: lets one trial through). */
  canRequest(): boolean;
  onSuccess(): void;
  onFailure(): void;
}

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

export interface RepairRan {
  peerId: string;
  result: RepairResult;
  /** Ran as a requested repair (ignoring backoff, catching-up and the root cache). */
  requested: boolean;
  /** Null when the cycle failed before a repair could start (e.g. a peer callback threw). */
  outcome: RepairDone | RepairFailed | null;
  /** `code: message` when result is failed. */
  error: string | null;
}

export interface RepairSkipped {
  peerId: string;
  result: 'skipped';
  reason: ColdPathSkipReason;
  requested: boolean;
}

/** What happened with one peer in a cycle, a requested or an on-demand repair. */
export type RepairOutcome = RepairRan | RepairSkipped;

export interface ColdPathSchedulerOptions {
  store: SyncEngine;
  metrics: EngineMetrics;
  logger: Logger;
  settings: ColdPathSettings;
  /** The mesh's tombstone TTL: tombstones older than this are neither fetched nor re-applied. */
  tombstoneTtlMs: number;
  /** store.max_future_skew: see RepairOptions.maxFutureSkewMs; changed by setMaxFutureSkew on a reload. */
  maxFutureSkewMs?: number;
  now?: () => number;
  /** How long a peer root read stays usable for scheduled checks. Default 5 s (DESIGN §7). */
  peerRootTtlMs?: number;
}

interface PeerState {
  /** Consecutive failed repairs. */
  failures: number;
  /** Scheduled repairs wait until then (backoff). */
  retryAt: number;
  /** Where the last budget-cut repair stopped. */
  resumeBranch: string | null;
  /** Set while the peer is refused, so the reason is logged once. */
  refused: RefusalReason | null;
  last: LastRepair | null;
  /** Tail of this peer's repair queue: repairs with one peer run one after another. */
  tail: Promise<unknown>;
  /** A requested repair queued and not started yet: more requests join it. */
  queuedRequest: Promise<RepairOutcome> | null;
  /** Reason of a requested repair an open circuit deferred. */
  pendingRequest: string | null;
}

function byPriority(a: ColdPathPeer, b: ColdPathPeer): number {
  return a.priority - b.priority || (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class ColdPathScheduler {
  private readonly store: SyncEngine;
  private readonly metrics: EngineMetrics;
  private readonly logger: Logger;
  private readonly tombstoneTtlMs: number;
  private maxFutureSkewMs: number | undefined;
  private readonly now: () => number;
  private readonly rootCache: PeerRootCache;
  private readonly sleeper = new Sleeper();
  private readonly peers = new Map<string, ColdPathPeer>();
  private readonly states = new Map<string, PeerState>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private settings: ColdPathSettings;
  private backoff: ExponentialBackoff;
  private abort = new AbortController();
  private loopDone: Promise<void> | null = null;
  private stopping = false;

  constructor(options: ColdPathSchedulerOptions) {
    this.store = options.store;
    this.metrics = options.metrics;
    this.logger = options.logger.child({ component: 'cold-path' });
    this.tombstoneTtlMs = options.tombstoneTtlMs;
    this.maxFutureSkewMs = options.maxFutureSkewMs;
    this.now = options.now ?? Date.now;
    this.rootCache = new PeerRootCache({ now: this.now, ...(options.peerRootTtlMs !== undefined ? { ttlMs: options.peerRootTtlMs } : {}) });
    this.settings = options.settings;
    this.backoff = makeBackoff(options.settings);
  }

  /** Replaces the peer list. State (backoff, last repair) is kept for peers that stay, dropped for the others. */
  setPeers(peers: readonly ColdPathPeer[]): void {
    const next = new Map(peers.map((p) => [p.peerId, p]));
    for (const id of this.peers.keys()) {
      if (!next.has(id)) {
        this.states.delete(id);
        this.rootCache.invalidate(id);
      }
    }
    for (const [id, peer] of next) {
      if (this.peers.get(id)?.reader !== peer.reader) this.rootCache.invalidate(id);
      if (!this.states.has(id)) {
        this.states.set(id, {
          failures: 0, retryAt: 0, resumeBranch: null, refused: null, last: null,
          tail: Promise.resolve(), queuedRequest: null, pendingRequest: null,
        });
      }
    }
    this.peers.clear();
    for (const [id, peer] of next) this.peers.set(id, peer);
  }

  /** Applies new settings; a new interval takes effect from the last cycle's start. */
  updateSettings(settings: ColdPathSettings): void {
    this.backoff = makeBackoff(settings);
    this.settings = settings;
    this.sleeper.wakeAll();
  }

  /** Starts the periodic loop; the first cycle runs one interval from now. */
  start(): void {
    if (this.loopDone) return;
    this.loopDone = this.loop();
  }

  /**
   * Stops the loop, cuts sleeps short, and waits for the cycle and any repairs in flight
   * (each stops after its current fetch + apply chunk). Repairs asked for meanwhile are
   * skipped ('stopped'); afterwards the scheduler serves on-demand repairs again, as before
   * `start()`.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.sleeper.wakeAll();
    try {
      await this.loopDone;
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    } finally {
      this.loopDone = null;
      this.stopping = false;
      this.abort = new AbortController();
    }
  }

  lastRepair(peerId: string): LastRepair | null {
    return this.states.get(peerId)?.last ?? null;
  }

  /** One cycle now with every peer (priority order), or with one peer; same rules as a scheduled cycle. */
  async repairNow(peerId?: string): Promise<RepairOutcome[]> {
    if (peerId !== undefined) return [await this.enqueue(peerId, null)];
    return this.cycle();
  }

  /** A reloaded store.max_future_skew: from the next repair on. */
  setMaxFutureSkew(ms: number): void {
    this.maxFutureSkewMs = ms;
  }

  /**
   * Repairs with this peer at once (a gap the hot path cannot fill). Resolves when done (or
   * skipped); never rejects, so callers may ignore the promise.
   */
  requestRepair(peerId: string, reason: string): Promise<RepairOutcome> {
    return this.enqueue(peerId, reason);
  }

  // ── internals ──────────────────────────────────────────────────────────────

  private async loop(): Promise<void> {
    let lastStart = this.now();
    while (!this.stopping) {
      const wait = lastStart + this.settings.interval_sec * 1000 - this.now();
      if (wait > 0) {
        // Woken early by stop() or new settings: re-evaluate.
        await this.sleeper.sleep(wait);
        continue;
      }
      lastStart = this.now();
      if (this.settings.enabled) {
        try {
          await this.cycle();
        } catch (err) {
          this.logger.error({ err: describe(err) }, 'cold-path cycle failed unexpectedly');
        }
      }
    }
  }

  private async cycle(): Promise<RepairOutcome[]> {
    const results: RepairOutcome[] = [];
    for (const peer of [...this.peers.values()].sort(byPriority)) {
      if (this.stopping) break;
      results.push(await this.enqueue(peer.peerId, null));
    }
    return results;
  }

  /** Queues a repair behind any other with the same peer. `reason` non-null: a requested repair. */
  private enqueue(peerId: string, reason: string | null): Promise<RepairOutcome> {
    const requested = reason !== null;
    const st = this.states.get(peerId);
    if (!st || this.stopping) {
      return Promise.resolve({ peerId, result: 'skipped', reason: st ? 'stopped' : 'unknown_peer', requested });
    }
    if (requested && st.queuedRequest) return st.queuedRequest;
    const attempt = (): Promise<RepairOutcome> => {
      if (requested) st.queuedRequest = null;
      return this.attempt(peerId, reason);
    };
    const run = st.tail.then(attempt, attempt).catch((err: unknown): RepairOutcome => {
      // Only a bug gets here (attempt() handles every expected failure); still never reject.
      this.logger.error({ peer_id: peerId, err: describe(err) }, 'cold-path repair crashed');
      return { peerId, result: 'failed', requested, outcome: null, error: `unexpected: ${describe(err)}` };
    });
    st.tail = run;
    if (requested) st.queuedRequest = run;
    this.inFlight.add(run);
    void run.then(() => this.inFlight.delete(run));
    return run;
  }

  private async attempt(peerId: string, reason: string | null): Promise<RepairOutcome> {
    const peer = this.peers.get(peerId);
    const st = this.states.get(peerId);
    if (!peer || !st) return { peerId, result: 'skipped', reason: 'unknown_peer', requested: reason !== null };
    const requested = reason !== null || st.pendingRequest !== null;
    const why = reason ?? st.pendingRequest;
    if (this.stopping) return { peerId, result: 'skipped', reason: 'stopped', requested };
    let outcome: RepairAttempt;
    try {
      if (!requested && this.now() < st.retryAt) return this.skip(peer, 'backoff', requested);
      if (!requested && peer.isCatchingUp()) return this.skip(peer, 'catching_up', requested);
      // Checked before the circuit: canRequest() may hand out the half-open trial call.
      if (!(await this.acceptingWrites())) {
        if (requested) st.pendingRequest = why;
        return this.skip(peer, 'backpressure', requested);
      }
      if (!peer.canRequest()) {
        if (requested) st.pendingRequest = why;
        return this.skip(peer, 'circuit_open', requested);
      }
      st.pendingRequest = null;
      if (requested) this.logger.info({ peer_id: peerId, reason: why }, 'repair requested: running at once');
      outcome = await repairWithPeer({
        store: this.store,
        peer: this.rootCache.reader(peerId, peer.reader, { fresh: requested }),
        peerId,
        maxItems: this.settings.max_items_per_cycle,
        tombstoneTtlMs: this.tombstoneTtlMs,
        startBranch: st.resumeBranch,
        maxFetchBytes: this.settings.max_fetch_bytes,
        signal: this.abort.signal,
        now: this.now,
        ...(this.maxFutureSkewMs !== undefined ? { maxFutureSkewMs: this.maxFutureSkewMs } : {}),
      });
    } catch (err) {
      // A peer callback or something unexpected threw: a failed cycle, never an exception out of here.
      return this.failed(peer, st, requested, null, `unexpected: ${describe(err)}`);
    }
    if (outcome.result === 'refused') return this.refused(peer, st, outcome, requested);
    if (st.refused) {
      this.logger.info({ peer_id: peerId }, 'peer tree is comparable again: cold path resumes');
      st.refused = null;
    }
    if (outcome.result === 'failed') {
      if (outcome.error.side === 'peer') safely(() => peer.onFailure());
      return this.failed(peer, st, requested, outcome, `${outcome.error.code}: ${outcome.error.message}`);
    }
    return this.succeeded(peer, st, requested, outcome);
  }

  /** The hot path's backpressure rule holds here too: no repairs into a store above its memory threshold. */
  private async acceptingWrites(): Promise<boolean> {
    try {
      return await this.store.shouldAcceptWrites();
    } catch (err) {
      this.logger.debug({ err: describe(err) }, 'local memory check failed: not writing repairs now');
      return false; // the store cannot tell: do not write (SyncEngine contract)
    }
  }

  private skip(peer: ColdPathPeer, reason: ColdPathSkipReason, requested: boolean): RepairSkipped {
    this.metrics.repairSkipped.labels(peer.peerId, reason).inc();
    this.logger.debug({ peer_id: peer.peerId, reason }, 'cold-path repair skipped');
    return { peerId: peer.peerId, result: 'skipped', reason, requested };
  }

  private refused(peer: ColdPathPeer, st: PeerState, outcome: RepairRefused, requested: boolean): RepairSkipped {
    safely(() => peer.onSuccess()); // the peer answered
    st.failures = 0;
    st.retryAt = 0;
    st.resumeBranch = null;
    if (st.refused !== outcome.reason) {
      // Once per change of state, not every cycle: the metric counts every cycle.
      this.logger.warn(
        { peer_id: peer.peerId, reason: outcome.reason, peer_format: outcome.peerFormat, local_format: outcome.localFormat },
        `${outcome.message}; the hot path is unaffected`,
      );
      st.refused = outcome.reason;
    }
    st.last = { at: this.isoNow(), result: 'failed', items: 0, error: `${outcome.reason}: ${outcome.message}` };
    return this.skip(peer, outcome.reason, requested);
  }

  private succeeded(peer: ColdPathPeer, st: PeerState, requested: boolean, outcome: RepairDone): RepairRan {
    safely(() => peer.onSuccess());
    st.failures = 0;
    st.retryAt = 0;
    st.resumeBranch = outcome.report.resumeBranch;
    this.count(peer.peerId, outcome.result, outcome);
    st.last = { at: this.isoNow(), result: outcome.result, items: outcome.applied };
    const fields = {
      peer_id: peer.peerId, result: outcome.result, requested, fetched: outcome.fetched, submitted: outcome.submitted,
      applied: outcome.applied, peer_wins: outcome.report.peerWins, local_wins: outcome.report.localWins,
      conflicts: outcome.report.conflicts, round_trips: outcome.report.roundTrips, duration_ms: outcome.durationMs,
      ...(outcome.rejected.length ? { rejected: outcome.rejected.slice(0, 10) } : {}),
    };
    if (outcome.result === 'in_sync') this.logger.debug(fields, 'cold path: in sync with peer');
    else this.logger.info(fields, outcome.result === 'partial' ? 'cold path: repaired part (budget reached; the rest next cycle)' : 'cold path: repaired');
    if (outcome.deferred > 0) {
      this.metrics.futureStamps.labels(peer.peerId, 'cold').inc(outcome.deferred);
      this.logger.warn({ peer_id: peer.peerId, deferred: outcome.deferred, changes: outcome.deferredKeys },
        'cold path: changes stamped too far ahead of the local clock left on the peer until the clock catches up');
    }
    if (outcome.report.conflicts > 0) {
      this.logger.warn({ peer_id: peer.peerId, conflicts: outcome.report.conflicts }, 'cold path: keys with equal stamps but different content (left alone)');
    }
    return { peerId: peer.peerId, result: outcome.result, requested, outcome, error: null };
  }

  private failed(peer: ColdPathPeer, st: PeerState, requested: boolean, outcome: RepairFailed | null, error: string): RepairRan {
    this.rootCache.invalidate(peer.peerId); // the next attempt talks to the peer
    st.failures += 1;
    const delay = this.backoff.delay(st.failures - 1);
    st.retryAt = this.now() + delay;
    this.count(peer.peerId, 'failed', outcome);
    st.last = { at: this.isoNow(), result: 'failed', items: outcome?.applied ?? 0, error };
    this.logger.warn({ peer_id: peer.peerId, requested, error, failures: st.failures, retry_in_ms: delay }, 'cold-path repair failed');
    return { peerId: peer.peerId, result: 'failed', requested, outcome, error };
  }

  private count(peerId: string, result: RepairResult, outcome: RepairDone | RepairFailed | null): void {
    if (!this.peers.has(peerId)) return; // removed meanwhile: its series are gone, don't recreate them
    const m = this.metrics;
    m.repairCycles.labels(peerId, result).inc();
    if (!outcome) return;
    m.repairItemsFetched.labels(peerId).inc(outcome.fetched);
    m.repairItemsSubmitted.labels(peerId).inc(outcome.submitted);
    // Branches, not comparisons: a cycle whose roots differ only where the peer must pull from us
    // still counts what differs, and one that differs in many places counts each place.
    const branches = outcome.report?.divergentBranches ?? 0;
    if (branches > 0) m.merkleDivergences.labels(peerId).inc(branches);
    m.repairDuration.labels(peerId).observe(outcome.durationMs / 1000);
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }
}

/** Deterministic capped doubling: one scheduler per node, nothing to de-synchronize. */
function makeBackoff(settings: ColdPathSettings): ExponentialBackoff {
  return new ExponentialBackoff({ baseMs: settings.backoff_base_sec * 1000, maxMs: settings.backoff_max_sec * 1000, jitter: 'none' });
}

/** A peer callback must not turn a finished repair into an exception. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the engine's breaker callbacks do not throw; if one did, the repair result still stands
  }
}
