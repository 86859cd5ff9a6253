/**
 * ColdPathScheduler logic: priority order, backoff growth and reset, skips (catching up,
 * circuit open), requested repairs at once, the budget carried across cycles, one repair per
 * peer at a time, and the loop's start/stop. An injected clock or vitest fake timers: no
 * real sleeps, no timing assertions. Real stores on a real redis-server where data moves;
 * a tiny fake reader where only ordering and backoff matter.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { openStore, putChange } from '../support/store-fixtures.js';
import { ColdPathScheduler, type ColdPathPeer, type RepairOutcome } from '../../src/cold-path/index.js';
import type { ColdPathSettings } from '../../src/config/types.js';
import { EngineMetrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';
import { TREE_FORMAT } from '../../src/merkle/tree-shape.js';
import { RedisStoreReader } from '../../src/store/store-reader.js';
import type { RedisStore } from '../../src/store/redis-store.js';
import type { StoreReader, SyncEngine } from '../../src/store/sync-engine.js';

const SETTINGS: ColdPathSettings = { enabled: true, interval_sec: 60, max_items_per_cycle: 1000, backoff_base_sec: 5, backoff_max_sec: 20, max_fetch_bytes: 32 * 1024 * 1024 };
const ROOT = 'a'.repeat(40);
const BASE = 1_700_000_000_000;

// ── fakes for pure ordering / backoff logic ─────────────────────────────────

function unused(): never {
  throw new Error('not used by an in-sync comparison');
}

interface FakeReader extends StoreReader {
  /** Repairs that reached the peer (each starts with a tree format read). */
  checks: number;
}

/**
 * A peer whose root equals the fake local store's (in sync), or whose reads fail while
 * `down()`. Format reads (never cached, unlike the root) count, log, and may wait on `gate`.
 */
function fakeReader(opts: { log?: string[]; name?: string; down?: () => boolean; gate?: () => Promise<void> } = {}): FakeReader {
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

const fakeStore: SyncEngine = {
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

interface PeerHooks {
  catchingUp?: boolean;
  circuitOpen?: boolean;
  successes: number;
  failures: number;
}

function peer(peerId: string, reader: StoreReader, priority = 0, hooks: Partial<PeerHooks> = {}): ColdPathPeer & { hooks: PeerHooks } {
  const h: PeerHooks = { successes: 0, failures: 0, ...hooks };
  return {
    hooks: h, peerId, priority, reader,
    isCatchingUp: () => h.catchingUp === true,
    canRequest: () => h.circuitOpen !== true,
    onSuccess: () => void h.successes++,
    onFailure: () => void h.failures++,
  };
}

function scheduler(store: SyncEngine, opts: { settings?: Partial<ColdPathSettings>; clock?: { ms: number }; useDateNow?: boolean } = {}) {
  const metrics = new EngineMetrics();
  const clock = opts.clock ?? { ms: BASE };
  const s = new ColdPathScheduler({
    store, metrics, logger: silentLogger(), settings: { ...SETTINGS, ...opts.settings }, tombstoneTtlMs: 7 * 24 * 3_600_000,
    ...(opts.useDateNow ? {} : { now: () => clock.ms }),
  });
  return { s, metrics, clock };
}

async function count(metric: { get(): Promise<{ values: { labels: Record<string, string | number | undefined>; value: number }[] }> }, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const results = (rs: RepairOutcome[]) => rs.map((r) => (r.result === 'skipped' ? `${r.peerId}:skipped:${r.reason}` : `${r.peerId}:${r.result}`));

describe('ColdPathScheduler: ordering and backoff (fake peers)', () => {
  it('runs peers in ascending priority, ties by peer id', async () => {
    const log: string[] = [];
    const { s } = scheduler(fakeStore);
    s.setPeers([
      peer('p-b', fakeReader({ log, name: 'p-b' }), 1),
      peer('p-d', fakeReader({ log, name: 'p-d' }), 2),
      peer('p-a', fakeReader({ log, name: 'p-a' }), 1),
      peer('p-c', fakeReader({ log, name: 'p-c' }), 0),
    ]);
    expect(results(await s.repairNow())).toEqual(['p-c:in_sync', 'p-a:in_sync', 'p-b:in_sync', 'p-d:in_sync']);
    expect(log).toEqual(['p-c', 'p-a', 'p-b', 'p-d']);
  });

  it('backs off a failing peer exponentially up to the max, and resets after a success', async () => {
    let down = true;
    const reader = fakeReader({ down: () => down });
    const p = peer('p', reader);
    const { s, metrics, clock } = scheduler(fakeStore); // base 5 s, max 20 s
    s.setPeers([p]);
    const at = async (sec: number): Promise<string> => {
      clock.ms = BASE + sec * 1000;
      return results(await s.repairNow())[0]!;
    };
    expect(await at(0)).toBe('p:failed'); // retry from 5
    expect(await at(4)).toBe('p:skipped:backoff');
    expect(await at(5)).toBe('p:failed'); // retry from 5 + 10 = 15
    expect(await at(14)).toBe('p:skipped:backoff');
    expect(await at(15)).toBe('p:failed'); // 15 + 20 = 35
    expect(await at(34)).toBe('p:skipped:backoff');
    expect(await at(35)).toBe('p:failed'); // capped: 35 + 20 = 55
    expect(await at(54)).toBe('p:skipped:backoff');
    expect(p.hooks.failures).toBe(4);
    expect(s.lastRepair('p')).toMatchObject({ result: 'failed', items: 0, error: expect.stringContaining('peer_read_failed') });

    down = false;
    expect(await at(55)).toBe('p:in_sync');
    expect(p.hooks.successes).toBe(1);
    down = true;
    expect(await at(56)).toBe('p:failed'); // reset: back to the base delay
    expect(await at(60)).toBe('p:skipped:backoff');
    expect(await at(61)).toBe('p:failed');
    expect(await count(metrics.repairSkipped, { peer_id: 'p', reason: 'backoff' })).toBe(5);
    expect(await count(metrics.repairCycles, { peer_id: 'p', result: 'failed' })).toBe(6);
    expect(await count(metrics.repairCycles, { peer_id: 'p', result: 'in_sync' })).toBe(1);
  });

  it('skips a peer whose circuit is open; a requested repair waits for the circuit and then ignores catching-up', async () => {
    const reader = fakeReader();
    const p = peer('p', reader, 0, { circuitOpen: true, catchingUp: true });
    const { s, metrics } = scheduler(fakeStore);
    s.setPeers([p]);
    expect(results(await s.repairNow())).toEqual(['p:skipped:catching_up']);
    p.hooks.catchingUp = false;
    expect(results(await s.repairNow())).toEqual(['p:skipped:circuit_open']);
    p.hooks.catchingUp = true;
    expect(await s.requestRepair('p', 'trimmed')).toMatchObject({ result: 'skipped', reason: 'circuit_open', requested: true });
    expect(reader.checks).toBe(0);
    // Circuit closes: the next cycle runs the pending request, though the hot path is catching up.
    p.hooks.circuitOpen = false;
    expect(await s.repairNow()).toMatchObject([{ result: 'in_sync', requested: true }]);
    // Served: scheduled cycles skip while catching up again.
    expect(results(await s.repairNow())).toEqual(['p:skipped:catching_up']);
    expect(await count(metrics.repairSkipped, { peer_id: 'p', reason: 'circuit_open' })).toBe(2);
    expect(await count(metrics.repairSkipped, { peer_id: 'p', reason: 'catching_up' })).toBe(2);
  });

  it('skips while the local store refuses writes (backpressure) and keeps a requested repair pending', async () => {
    let accepting = false;
    const store: SyncEngine = { ...fakeStore, shouldAcceptWrites: async () => accepting };
    const reader = fakeReader();
    const { s, metrics } = scheduler(store);
    s.setPeers([peer('p', reader, 0, { catchingUp: true })]);
    expect(await s.requestRepair('p', 'trimmed')).toMatchObject({ result: 'skipped', reason: 'backpressure', requested: true });
    expect(reader.checks).toBe(0);
    accepting = true;
    expect(await s.repairNow()).toMatchObject([{ result: 'in_sync', requested: true }]);
    expect(await count(metrics.repairSkipped, { peer_id: 'p', reason: 'backpressure' })).toBe(1);
  });

  it('never runs two repairs with one peer at once; queued requests coalesce', async () => {
    let active = 0;
    let maxActive = 0;
    const gates: { resolve: () => void }[] = [];
    const reader = fakeReader({
      gate: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        const d = deferred();
        gates.push(d);
        await d.promise;
        active--;
      },
    });
    const { s } = scheduler(fakeStore);
    s.setPeers([peer('p', reader)]);
    const all = Promise.all([s.repairNow('p'), s.requestRepair('p', 'trimmed'), s.requestRepair('p', 'peer_behind'), s.repairNow()]);
    // Release each repair as it reaches the peer; only ever one is waiting.
    for (let released = 0; released < 3; released++) {
      while (gates.length === 0) await new Promise((r) => setImmediate(r));
      expect(active).toBe(1);
      gates.shift()!.resolve();
    }
    const [a, b, c, d] = await all;
    expect(maxActive).toBe(1);
    expect(reader.checks).toBe(3); // the two requests were one repair
    expect(b).toBe(c);
    expect([a[0]!.result, b.result, d[0]!.result]).toEqual(['in_sync', 'in_sync', 'in_sync']);
  });

  it('a throwing peer callback is a failed cycle, never an exception', async () => {
    const p = peer('p', fakeReader());
    p.isCatchingUp = () => {
      throw new Error('boom');
    };
    const { s, metrics } = scheduler(fakeStore);
    s.setPeers([p, peer('q', fakeReader(), 1)]);
    expect(results(await s.repairNow())).toEqual(['p:failed', 'q:in_sync']);
    expect(s.lastRepair('p')?.error).toContain('boom');
    expect(await count(metrics.repairCycles, { peer_id: 'p', result: 'failed' })).toBe(1);
    expect(await s.requestRepair('nobody', 'trimmed')).toMatchObject({ result: 'skipped', reason: 'unknown_peer' });
  });
});

describe('ColdPathScheduler: the loop (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a cycle every interval, applies a new interval, and stop() interrupts the sleep and waits for the cycle in flight', async () => {
    vi.useFakeTimers();
    let gate: { promise: Promise<void>; resolve: () => void } | null = null;
    const reader = fakeReader({ gate: () => gate?.promise ?? Promise.resolve() });
    const { s } = scheduler(fakeStore, { settings: { interval_sec: 10 }, useDateNow: true });
    s.setPeers([peer('p', reader)]);
    s.start();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(reader.checks).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(reader.checks).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reader.checks).toBe(2);

    // A shorter interval takes effect from the last cycle's start.
    s.updateSettings({ ...SETTINGS, interval_sec: 2 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reader.checks).toBe(3);
    // Disabled: the loop idles.
    s.updateSettings({ ...SETTINGS, interval_sec: 2, enabled: false });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reader.checks).toBe(3);
    s.updateSettings({ ...SETTINGS, interval_sec: 2 });

    // A cycle blocked on the peer: stop() waits for it.
    gate = deferred();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reader.checks).toBe(4);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(stopped).toBe(true);

    // Stopped while sleeping: resolves without any time passing.
    gate = null;
    s.start();
    await s.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reader.checks).toBe(4);
  });
});

describe('ColdPathScheduler with real stores', () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  async function pair(): Promise<{ a: RedisStore; b: RedisStore; bReader: StoreReader; close: () => Promise<void> }> {
    const [a, b] = await Promise.all([openStore(server.url, { nodeId: 'london' }), openStore(server.url, { nodeId: 'paris' })]);
    return { a, b, bReader: new RedisStoreReader(client, b.keys.prefix), close: async () => void (await Promise.all([a.close(), b.close()])) };
  }

  it('requestRepair runs at once, ignoring the interval, catching-up and a stale cached peer root', async () => {
    const { a, b, bReader, close } = await pair();
    try {
      const { s, clock } = scheduler(a, { settings: { interval_sec: 3600 } });
      const p = peer('paris', bReader, 0);
      s.setPeers([p]);
      s.start();
      expect(results(await s.repairNow())).toEqual(['paris:in_sync']); // caches paris's root
      await b.put('late', Buffer.from('written after the check'));
      // Within the cache's 5 s a scheduled check trusts the cached root: acceptable for a periodic check...
      expect(results(await s.repairNow())).toEqual(['paris:in_sync']);
      // ...but a gap-triggered repair reads the peer fresh, even while the hot path is catching up.
      p.hooks.catchingUp = true;
      const r = await s.requestRepair('paris', 'trimmed');
      expect(r).toMatchObject({ result: 'repaired', requested: true, outcome: { fetched: 1, applied: 1 } });
      expect((await a.get('late'))?.content.toString()).toBe('written after the check');
      expect(results(await s.repairNow())).toEqual(['paris:skipped:catching_up']);
      p.hooks.catchingUp = false;
      clock.ms += 5_000;
      expect(results(await s.repairNow())).toEqual(['paris:in_sync']);
      expect(s.lastRepair('paris')).toMatchObject({ result: 'in_sync', items: 0 });
      await s.stop();
    } finally {
      await close();
    }
  });

  it('carries the budget: each cycle takes at most max_items_per_cycle, the next resumes, all keys arrive once', async () => {
    const { a, b, bReader, close } = await pair();
    try {
      const keys = Array.from({ length: 17 }, (_, i) => `key/${i}`);
      await b.applyChanges(keys.map((k, i) => putChange(k, `v${i}`, BASE + i, 'paris')));
      const { s, metrics } = scheduler(a, { settings: { max_items_per_cycle: 5 } });
      s.setPeers([peer('paris', bReader)]);
      const seen: string[] = [];
      const trail: string[] = [];
      for (let i = 0; i < 5; i++) {
        const [r] = await s.repairNow();
        if (!r || r.result === 'skipped' || !r.outcome) throw new Error('expected a repair');
        trail.push(`${r.result}:${r.outcome.applied}`);
        seen.push(...r.outcome.report!.keys.filter((k) => k.winner === 'peer').map((k) => k.key));
        if (r.result === 'repaired') break;
      }
      expect(trail).toEqual(['partial:5', 'partial:5', 'partial:5', 'repaired:2']);
      expect(seen.sort()).toEqual([...keys].sort());
      expect(await count(metrics.repairItemsSubmitted, { peer_id: 'paris' })).toBe(17);
      expect(await a.merkleRoot()).toBe(await b.merkleRoot());
    } finally {
      await close();
    }
  });
});
