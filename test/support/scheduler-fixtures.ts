// ColdPathScheduler fixtures shared by its unit tests (fake peers) and integration tests (real stores).
import { ColdPathScheduler, type ColdPathPeer, type RepairOutcome } from '../../src/cold-path/index.js';
import type { ColdPathSettings } from '../../src/config/types.js';
import { EngineMetrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';
import { TREE_FORMAT } from '../../src/merkle/tree-shape.js';
import type { StoreReader, LocalStore } from '../../src/store/local-store.js';

export const SETTINGS: ColdPathSettings = { enabled: true, interval_sec: 60, max_items_per_cycle: 1000, backoff_base_sec: 5, backoff_max_sec: 20, max_fetch_bytes: 32 * 1024 * 1024 };
export const ROOT = 'a'.repeat(40);
export const BASE = 1_700_000_000_000;

// ── fakes for pure ordering / backoff logic ─────────────────────────────────

function unused(): never {
  throw new Error('not used by an in-sync comparison');
}

export interface FakeReader extends StoreReader {
  /** Repairs that reached the peer (each starts with a tree format read). */
  checks: number;
}

/**
 * A peer whose root equals the fake local store's (in sync), or whose reads fail while
 * `down()`. Format reads (never cached, unlike the root) count, log, and may wait on `gate`.
 */
export function fakeReader(opts: { log?: string[]; name?: string; down?: () => boolean; gate?: () => Promise<void> } = {}): FakeReader {
  const reader: FakeReader = {
    checks: 0,
    treeFormat: async () => {
      reader.checks++;
      if (opts.name) opts.log?.push(opts.name);
      await opts.gate?.();
      if (opts.down?.()) throw new Error('ECONNREFUSED');
      return TREE_FORMAT;
    },
    merkleRoot: async () => ROOT,
    branchDigests: unused,
    bucketDigests: unused,
    bucketLeaves: unused,
    fetchChanges: unused,
  };
  return reader;
}

export const fakeStore: LocalStore = {
  nodeId: 'local',
  treeFormat: async () => TREE_FORMAT,
  merkleRoot: async () => ROOT,
  branchDigests: unused,
  bucketDigests: unused,
  bucketLeaves: unused,
  fetchChanges: unused,
  applyChanges: unused,
  isCurrent: unused,
  shouldAcceptWrites: async () => true,
  ping: async () => undefined,
  keyCount: async () => 0,
};

export interface PeerHooks {
  catchingUp?: boolean;
  circuitOpen?: boolean;
  successes: number;
  failures: number;
}

export function peer(peerId: string, reader: StoreReader, priority = 0, hooks: Partial<PeerHooks> = {}): ColdPathPeer & { hooks: PeerHooks } {
  const h: PeerHooks = { successes: 0, failures: 0, ...hooks };
  return {
    hooks: h, peerId, priority, reader,
    isCatchingUp: () => h.catchingUp === true,
    canRequest: () => h.circuitOpen !== true,
    onSuccess: () => void h.successes++,
    onFailure: () => void h.failures++,
  };
}

export function scheduler(store: LocalStore, opts: { settings?: Partial<ColdPathSettings>; clock?: { ms: number }; useDateNow?: boolean } = {}) {
  const metrics = new EngineMetrics();
  const clock = opts.clock ?? { ms: BASE };
  const s = new ColdPathScheduler({
    store, metrics, logger: silentLogger(), settings: { ...SETTINGS, ...opts.settings }, tombstoneTtlMs: 7 * 24 * 3_600_000,
    ...(opts.useDateNow ? {} : { now: () => clock.ms }),
  });
  return { s, metrics, clock };
}

export async function count(metric: { get(): Promise<{ values: { labels: Record<string, string | number | undefined>; value: number }[] }> }, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0);
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export const results = (rs: RepairOutcome[]) => rs.map((r) => (r.result === 'skipped' ? `${r.peerId}:skipped:${r.reason}` : `${r.peerId}:${r.result}`));

