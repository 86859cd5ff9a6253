/**
 * Runs the cold path (docs/cold-path.md, "The scheduler"): every `interval_sec` one cycle over
 * the peers in priority order, one repair per peer within the `max_items_per_cycle` budget.
 * Whether an attempt runs is repair-policy.ts (its trigger and gates); repairs with one peer are
 * serialized by repair-queue.ts; what is remembered of each outcome (backoff, resume point,
 * `last_repair`, metrics, logs) is repair-log.ts; the repair itself is repair.ts.
 *
 * `cold_path.enabled` governs the periodic repairs only: a requested or on-demand repair runs
 * even when it is off (a gap has nothing else to fill it). A requested repair that a gate deferred,
 * or that failed, stays pending; every interval the loop serves the pending ones, enabled or not.
 *
 * Two ways to run a repair on demand:
 * - `repairNow(peerId?)`: a scheduled cycle, now — the same rules (backoff, catching-up,
 *   circuit, cached peer root). Tests and the HTTP/CLI layers drive cycles with it.
 * - `requestRepair(peerId, reason)`: "this peer needs repairing": runs at once, ignoring
 *   backoff, catching-up and the root cache. Only an open circuit (no calls to that peer at
 *   all) or backpressure defers it, and then it stays pending until a later attempt can run it.
 *
 * Nothing throws out of it.
 */
import type { ColdPathSettings } from '../config/types.js';
import { Sleeper } from '../hot-path/sleeper.js';
import type { Logger } from '../observability/logger.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { StoreReader, LocalStore } from '../store/local-store.js';
import { PeerRootCache } from './peer-root-cache.js';
import { repairWithPeer, type RepairRun } from './repair.js';
import { RepairLog, type PeerRepairRecord, type RepairFailure } from './repair-log.js';
import type { LastRepair, RepairOutcome } from './repair-outcome.js';
import {
  pendingAfterSkip, planRepair, requested, SCHEDULED, type RepairGate, type RepairReason, type RepairTrigger, type RequestedTrigger,
} from './repair-policy.js';
import { RepairQueue } from './repair-queue.js';
import { errorMessage } from '../errors.js';

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

export interface ColdPathSchedulerOptions {
  store: LocalStore;
  metrics: EngineMetrics;
  logger: Logger;
  settings: ColdPathSettings;
  /** The mesh's tombstone TTL: tombstones older than this are neither fetched nor re-applied. */
  tombstoneTtlMs: number;
  /** store.max_future_skew: see RepairOptions.maxFutureSkewMs; changed by setMaxFutureSkew on a reload. */
  maxFutureSkewMs?: number;
  now?: () => number;
  /** How long a peer root read stays usable for scheduled checks. Default 5 s (docs/cold-path.md). */
  peerRootTtlMs?: number;
}

function byPriority(a: ColdPathPeer, b: ColdPathPeer): number {
  return a.priority - b.priority || (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0);
}

/** An outcome with no repair attempted and nothing counted ('stopped', 'unknown_peer'). */
function notAttempted(peerId: string, reason: 'stopped' | 'unknown_peer', trigger: RepairTrigger): RepairOutcome {
  return { peerId, result: 'skipped', reason, requested: trigger.kind === 'requested' };
}

export class ColdPathScheduler {
  private readonly store: LocalStore;
  private readonly logger: Logger;
  private readonly tombstoneTtlMs: number;
  private maxFutureSkewMs: number | undefined;
  private readonly now: () => number;
  private readonly rootCache: PeerRootCache;
  private readonly sleeper = new Sleeper();
  private readonly peers = new Map<string, ColdPathPeer>();
  private readonly log: RepairLog;
  private readonly queue = new RepairQueue<RepairOutcome>();
  /** Per peer: the requested repair a gate deferred, served by the next attempt that can run. */
  private readonly pending = new Map<string, RequestedTrigger>();
  private settings: ColdPathSettings;
  private abort = new AbortController();
  private loopDone: Promise<void> | null = null;
  private stopping = false;

  constructor(options: ColdPathSchedulerOptions) {
    this.store = options.store;
    this.logger = options.logger.child({ component: 'cold-path' });
    this.tombstoneTtlMs = options.tombstoneTtlMs;
    this.maxFutureSkewMs = options.maxFutureSkewMs;
    this.now = options.now ?? Date.now;
    this.rootCache = new PeerRootCache({ now: this.now, ...(options.peerRootTtlMs !== undefined ? { ttlMs: options.peerRootTtlMs } : {}) });
    this.settings = options.settings;
    this.log = new RepairLog({ metrics: options.metrics, logger: this.logger, now: this.now, settings: options.settings });
  }

  /** Replaces the peer list. State (backoff, last repair) is kept for peers that stay, dropped for the others. */
  setPeers(peers: readonly ColdPathPeer[]): void {
    const next = new Map(peers.map((p) => [p.peerId, p]));
    for (const id of this.peers.keys()) {
      if (!next.has(id)) {
        this.queue.close(id);
        this.pending.delete(id);
        this.rootCache.invalidate(id);
      }
    }
    for (const [id, peer] of next) {
      if (this.peers.get(id)?.reader !== peer.reader) this.rootCache.invalidate(id);
      this.queue.open(id);
    }
    this.log.keep(new Set(next.keys()));
    this.peers.clear();
    for (const [id, peer] of next) this.peers.set(id, peer);
  }

  /** Applies new settings; a new interval takes effect from the last cycle's start. */
  updateSettings(settings: ColdPathSettings): void {
    this.log.updateSettings(settings);
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
      await this.queue.drain();
    } finally {
      this.loopDone = null;
      this.stopping = false;
      this.abort = new AbortController();
    }
  }

  lastRepair(peerId: string): LastRepair | null {
    return this.log.last(peerId);
  }

  /** One cycle now with every peer (priority order), or with one peer; same rules as a scheduled cycle. */
  async repairNow(peerId?: string): Promise<RepairOutcome[]> {
    if (peerId !== undefined) return [await this.enqueue(peerId, SCHEDULED)];
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
  requestRepair(peerId: string, reason: RepairReason): Promise<RepairOutcome> {
    return this.enqueue(peerId, requested(reason));
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
      try {
        // Disabled, only the requests left pending (deferred or failed) are tried again.
        await this.cycle(this.settings.enabled ? 'all' : 'pending');
      } catch (err) {
        this.logger.error({ err }, 'cold-path cycle failed unexpectedly');
      }
    }
  }

  private async cycle(which: 'all' | 'pending' = 'all'): Promise<RepairOutcome[]> {
    const results: RepairOutcome[] = [];
    for (const peer of [...this.peers.values()].sort(byPriority)) {
      if (this.stopping) break;
      if (which === 'pending' && !this.pending.has(peer.peerId)) continue;
      results.push(await this.enqueue(peer.peerId, SCHEDULED));
    }
    return results;
  }

  /** Queues an attempt behind any other with the same peer; requests not started yet merge. */
  private enqueue(peerId: string, trigger: RepairTrigger): Promise<RepairOutcome> {
    if (!this.queue.isOpen(peerId) || this.stopping) {
      return Promise.resolve(notAttempted(peerId, this.queue.isOpen(peerId) ? 'stopped' : 'unknown_peer', trigger));
    }
    return this.queue.push(peerId, () => this.attempt(peerId, trigger), {
      merge: trigger.kind === 'requested',
      crashed: (err: unknown): RepairOutcome => {
        // Only a bug gets here (attempt() handles every expected failure); still never reject.
        this.logger.error({ peer_id: peerId, err }, 'cold-path repair crashed');
        return { peerId, result: 'failed', requested: trigger.kind === 'requested', outcome: null, error: `unexpected: ${errorMessage(err)}` };
      },
    });
  }

  private async attempt(peerId: string, asked: RepairTrigger): Promise<RepairOutcome> {
    const peer = this.peers.get(peerId);
    const record = this.log.record(peerId);
    if (!peer || !record) return notAttempted(peerId, 'unknown_peer', asked);
    const plan = planRepair(asked, this.pending.get(peerId) ?? null);
    const { trigger } = plan;
    const isRequested = trigger.kind === 'requested';
    if (this.stopping) return notAttempted(peerId, 'stopped', trigger);
    let run: RepairRun;
    try {
      const closed = await this.closedGate(plan.gates, peer, record);
      if (closed !== null) {
        const stillPending = pendingAfterSkip(plan);
        if (stillPending) this.pending.set(peerId, stillPending);
        return this.log.skipped(peerId, closed, isRequested);
      }
      this.pending.delete(peerId);
      if (trigger.kind === 'requested') this.logger.info({ peer_id: peerId, reason: trigger.reason }, 'repair requested: running at once');
      run = await repairWithPeer({
        store: this.store,
        peer: this.rootCache.reader(peerId, peer.reader, { fresh: plan.freshRoot }),
        peerId,
        maxItems: this.settings.max_items_per_cycle,
        tombstoneTtlMs: this.tombstoneTtlMs,
        startBranch: record.resumeBranch,
        maxFetchBytes: this.settings.max_fetch_bytes,
        signal: this.abort.signal,
        now: this.now,
        ...(this.maxFutureSkewMs !== undefined ? { maxFutureSkewMs: this.maxFutureSkewMs } : {}),
      });
    } catch (err) {
      // A peer callback or something unexpected threw: a failed cycle, never an exception out of here.
      return this.failed(peerId, record, null, { text: `unexpected: ${errorMessage(err)}`, err }, trigger);
    }
    if (run.result === 'refused') {
      safely(() => peer.onSuccess()); // the peer answered
      return this.log.refused(record, run, isRequested);
    }
    this.log.comparable(record, peerId);
    if (run.result === 'failed') {
      if (run.error.side === 'peer') safely(() => peer.onFailure());
      return this.failed(peerId, record, run, { text: `${run.error.code}: ${run.error.message}`, err: run.error }, trigger);
    }
    safely(() => peer.onSuccess());
    return this.log.succeeded(record, run, isRequested);
  }

  private failed(peerId: string, record: PeerRepairRecord, run: Extract<RepairRun, { result: 'failed' }> | null, failure: RepairFailure, trigger: RepairTrigger): RepairOutcome {
    this.rootCache.invalidate(peerId); // the next attempt talks to the peer
    // A request that failed is not done: the next attempt (at the latest the next interval) runs it again.
    if (trigger.kind === 'requested') this.pending.set(peerId, trigger);
    return this.log.failed(record, peerId, run, failure, trigger.kind === 'requested');
  }

  /** The first gate that stops this attempt, or null. Evaluated lazily, in order: asking the circuit has a side effect. */
  private async closedGate(gates: readonly RepairGate[], peer: ColdPathPeer, record: PeerRepairRecord): Promise<RepairGate | null> {
    for (const gate of gates) {
      switch (gate) {
        case 'backoff':
          if (this.now() < record.retryAt) return gate;
          break;
        case 'catching_up':
          if (peer.isCatchingUp()) return gate;
          break;
        case 'backpressure':
          if (!(await this.acceptingWrites())) return gate;
          break;
        case 'circuit_open':
          if (!peer.canRequest()) return gate;
          break;
      }
    }
    return null;
  }

  /** The hot path's backpressure rule holds here too: no repairs into a store above its memory threshold. */
  private async acceptingWrites(): Promise<boolean> {
    try {
      return await this.store.shouldAcceptWrites();
    } catch (err) {
      this.logger.debug({ err }, 'local memory check failed: not writing repairs now');
      return false; // the store cannot tell: do not write (LocalStore contract)
    }
  }
}

/** A peer callback must not turn a finished repair into an exception. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the engine's breaker callbacks do not throw; if one did, the repair result still stands
  }
}
