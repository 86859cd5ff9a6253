/**
 * The cold path end to end on real redis-servers: stores diverged every way converge to the
 * LWW model after one cycle on each node, a local write the peer lacks is never lost,
 * tombstones win and lose by their stamp, budgets bound each cycle, unusable peers are
 * refused, and tombstones past the horizon never travel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { useRedisServers } from '../../support/use-redis.js';
import { allLeaves, openStore, uniquePrefix } from '../../support/store-fixtures.js';
import { delChange, putChange } from '../../support/changes.js';
import { LwwModel } from '../../support/lww-model.js';
import type { Change } from '../../../src/model/change.js';
import { formatHlc } from '../../../src/model/hlc.js';
import type { RedisStore } from '../../../src/store/redis-store.js';
import { RedisStoreReader } from '../../../src/store/store-reader.js';
import type { StoreReader } from '../../../src/store/local-store.js';
import { META_FIELDS } from '../../../src/store/keys.js';
import { EngineMetrics } from '../../../src/observability/metrics.js';
import { silentLogger, type Logger } from '../../../src/observability/logger.js';
import type { ColdPathSettings } from '../../../src/config/types.js';
import { ColdPathScheduler, compareWithPeer, repairWithPeer, tombstoneHorizon, type RepairOutcome } from '../../../src/cold-path/index.js';

const BASE = 1_700_000_000_000;
const HOUR = 3_600_000;
const SETTINGS: ColdPathSettings = { enabled: true, interval_sec: 60, max_items_per_cycle: 1000, backoff_base_sec: 5, backoff_max_sec: 300, max_fetch_bytes: 32 * 1024 * 1024 };

const servers = useRedisServers(3);
let clients: Redis[] = [];
beforeAll(() => {
  clients = servers().map((s) => new Redis(s.url));
});
afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** A node: its store (with a settable clock) on server `i`, and a read-only view of it as a peer sees it. */
interface Node {
  id: string;
  store: RedisStore;
  reader: RedisStoreReader;
  clock: { ms: number };
}

async function openNode(i: number, id: string): Promise<Node> {
  const clock = { ms: BASE };
  const store = await openStore(servers()[i]!.url, { nodeId: id, now: () => clock.ms, tombstoneTtlMs: 24 * HOUR });
  return { id, store, reader: new RedisStoreReader(clients[i]!, store.keys.prefix), clock };
}

async function closeAll(nodes: Node[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.store.close()));
}

function schedulerFor(node: Node, peers: Node[], opts: { settings?: Partial<ColdPathSettings>; metrics?: EngineMetrics; logger?: Logger; ttlMs?: number } = {}) {
  const metrics = opts.metrics ?? new EngineMetrics();
  const scheduler = new ColdPathScheduler({
    store: node.store,
    metrics,
    logger: opts.logger ?? silentLogger(),
    settings: { ...SETTINGS, ...opts.settings },
    tombstoneTtlMs: opts.ttlMs ?? 24 * HOUR,
    now: () => node.clock.ms,
  });
  scheduler.setPeers(peers.map((p) => ({
    peerId: p.id, priority: 0, reader: p.reader,
    isCatchingUp: () => false, canRequest: () => true, onSuccess: () => undefined, onFailure: () => undefined,
  })));
  return { scheduler, metrics };
}

/** Logger whose JSON lines are kept for assertions. */
function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

async function metricValue(metric: { get(): Promise<{ values: { labels: Record<string, string | number | undefined>; value: number }[] }> }, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0);
}

function ran(o: RepairOutcome) {
  if (o.result === 'skipped' || !o.outcome) throw new Error(`expected a repair, got ${JSON.stringify(o)}`);
  return o.outcome;
}

/** The store's live content and leaves must equal the model's. */
async function expectEqualsModel(node: Node, model: LwwModel, keys: readonly string[]): Promise<void> {
  expect(Object.fromEntries(await allLeaves(node.store))).toEqual(Object.fromEntries(model.leaves()));
  expect(await node.store.merkleRoot()).toBe(model.root());
  for (const key of keys) {
    const w = model.winners.get(key);
    const rec = await node.store.get(key);
    if (!w || w.op === 'DEL') expect(rec).toBeNull();
    else expect(rec?.content.toString('utf8')).toBe(w.content.toString('utf8'));
  }
}

describe('cold path convergence (property)', () => {
  const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'ключ', '🔑'];
  type Op = { node: number; kind: 'put' | 'delete' | 'apply-put' | 'apply-del'; key: string; ms: number; origin: string };
  const opArb: fc.Arbitrary<Op> = fc.record({
    node: fc.nat(2),
    kind: fc.constantFrom('put', 'delete', 'apply-put', 'apply-del'),
    key: fc.constantFrom(...KEYS),
    ms: fc.integer({ min: 0, max: 4 }),
    origin: fc.constantFrom('x-1', 'x-2', 'x-3'),
  });

  it('2 or 3 stores diverged by puts, deletes and conflicting writes on every side converge to the LWW model after one cycle each', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 3 }), fc.array(opArb, { minLength: 1, maxLength: 40 }), async (n, ops) => {
        const nodes = await Promise.all(Array.from({ length: n }, (_, i) => openNode(i, `node-${i}`)));
        try {
          const changes: Change[] = [];
          for (const [i, op] of ops.entries()) {
            const node = nodes[op.node % n]!;
            node.clock.ms = BASE + op.ms;
            if (op.kind === 'put') {
              const content = `${node.id}#${i}`;
              const w = await node.store.put(op.key, Buffer.from(content));
              changes.push(putChange(op.key, content, BASE + op.ms, node.id, { hlc: w.hlc, version: w.version }));
            } else if (op.kind === 'delete') {
              const d = await node.store.delete(op.key);
              changes.push({ op: 'DEL', key: op.key, hlc: d.hlc, origin: d.origin, updatedAt: BASE + op.ms });
            } else {
              // A stamp identifies one change: the same (key, ms, origin) always carries the same content.
              const c = op.kind === 'apply-put'
                ? putChange(op.key, `${op.key}@${op.origin}@${op.ms}`, BASE + op.ms, op.origin)
                : delChange(op.key, BASE + op.ms, op.origin);
              // Apply stamps may repeat with a different op: keep the first change per stamp.
              const same = changes.find((x) => x.key === c.key && x.hlc === c.hlc && x.origin === c.origin);
              const change = same ?? c;
              if (!same) changes.push(change);
              await node.store.applyChanges([change]);
            }
          }
          const model = new LwwModel().applyAll(changes);
          // One repair cycle on each node, each pulling from every peer.
          for (const node of nodes) {
            const { scheduler } = schedulerFor(node, nodes.filter((p) => p !== node));
            const results = await scheduler.repairNow();
            expect(results.map((r) => r.result).every((r) => r === 'in_sync' || r === 'repaired')).toBe(true);
          }
          const roots = await Promise.all(nodes.map((x) => x.store.merkleRoot()));
          expect(new Set(roots).size).toBe(1);
          for (const node of nodes) await expectEqualsModel(node, model, KEYS);
        } finally {
          await closeAll(nodes);
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe('cold path repair rules', () => {
  it('a local write the peer has not received yet survives the local and the peer cycles (the original deleted it)', async () => {
    const a = await openNode(0, 'london');
    const b = await openNode(1, 'paris');
    try {
      a.clock.ms = BASE + 10;
      const mine = await a.store.put('patient/1', Buffer.from('only on london'));
      b.clock.ms = BASE + 20;
      await b.store.put('patient/2', Buffer.from('only on paris'));
      const sa = schedulerFor(a, [b]).scheduler;
      const sb = schedulerFor(b, [a]).scheduler;

      // Paris lacks patient/1: london wins it (lacking is not deleting).
      const view = await compareWithPeer(a.reader, b.reader);
      expect(view.keys.find((k) => k.key === 'patient/1')).toMatchObject({ winner: 'local', peer: null });

      // London pulls first; it must not delete patient/1.
      const first = ran((await sa.repairNow())[0]!);
      expect(first.result).toBe('repaired');
      expect(first.fetched).toBe(1);
      expect((await a.store.get('patient/1'))?.content.toString()).toBe('only on london');

      // Paris pulls: it receives london's write.
      expect(ran((await sb.repairNow())[0]!).fetched).toBe(1);
      expect(await b.store.get('patient/1')).toMatchObject({ hlc: mine.hlc, origin: 'london' });

      // London again (past the 5 s peer-root cache): in sync, still there.
      a.clock.ms += 5_000;
      expect((await sa.repairNow())[0]!.result).toBe('in_sync');
      expect((await a.store.get('patient/1'))?.content.toString()).toBe('only on london');
      expect(await a.store.merkleRoot()).toBe(await b.store.merkleRoot());
    } finally {
      await closeAll([a, b]);
    }
  });

  it('a delete wins over an older put on another node and loses to a newer one', async () => {
    const a = await openNode(0, 'london');
    const b = await openNode(1, 'paris');
    try {
      // k1: put on london at t=1, delete on paris at t=2 → deleted everywhere.
      a.clock.ms = BASE + 1;
      await a.store.put('k1', Buffer.from('old'));
      b.clock.ms = BASE + 2;
      await b.store.delete('k1');
      // k2: delete on london at t=3, put on paris at t=4 → the put lives everywhere.
      a.clock.ms = BASE + 3;
      await a.store.delete('k2');
      b.clock.ms = BASE + 4;
      await b.store.put('k2', Buffer.from('new'));
      // k3: replicated changes: a put at t=6 loses to a delete at t=7 stamped by a third origin.
      await a.store.applyChanges([putChange('k3', 'v', BASE + 6, 'berlin')]);
      await b.store.applyChanges([delChange('k3', BASE + 7, 'rome')]);

      for (const [node, peer] of [[a, b], [b, a]] as const) await schedulerFor(node, [peer]).scheduler.repairNow();
      for (const node of [a, b]) {
        const leaves = await allLeaves(node.store);
        expect(await node.store.get('k1')).toBeNull();
        expect(leaves.get('k1')).toMatchObject({ deleted: true, origin: 'paris' });
        expect((await node.store.get('k2'))?.content.toString()).toBe('new');
        expect(await node.store.get('k3')).toBeNull();
        expect(leaves.get('k3')).toMatchObject({ deleted: true, origin: 'rome' });
      }
      expect(await a.store.merkleRoot()).toBe(await b.store.merkleRoot());
    } finally {
      await closeAll([a, b]);
    }
  });

  it('repairs at most the budget per cycle (counts and metrics); later cycles finish the job', async () => {
    const a = await openNode(0, 'london');
    const b = await openNode(1, 'paris');
    try {
      await b.store.applyChanges(Array.from({ length: 25 }, (_, i) => putChange(`item/${i}`, `v${i}`, BASE + i, 'paris')));
      // Keys only london has do not use the budget (the peer pulls them in its own cycle).
      await a.store.applyChanges(Array.from({ length: 5 }, (_, i) => putChange(`mine/${i}`, `m${i}`, BASE + i, 'london')));
      const { scheduler, metrics } = schedulerFor(a, [b], { settings: { max_items_per_cycle: 10 } });
      const fetched = () => metricValue(metrics.repairItemsFetched, { peer_id: 'paris' });
      const submitted = () => metricValue(metrics.repairItemsSubmitted, { peer_id: 'paris' });

      const counts: [string, number, number, number][] = [];
      let divergentBranches = 0;
      for (let cycle = 0; cycle < 4; cycle++) {
        const r = (await scheduler.repairNow())[0]!;
        const o = ran(r);
        counts.push([r.result, o.fetched, o.submitted, o.applied]);
        divergentBranches += o.report?.divergentBranches ?? 0;
        expect(o.fetched).toBeLessThanOrEqual(10);
      }
      expect(counts).toEqual([
        ['partial', 10, 10, 10],
        ['partial', 10, 10, 10],
        ['repaired', 5, 5, 5],
        ['in_sync', 0, 0, 0], // roots still differ (paris lacks london's keys until it pulls), but nothing to pull
      ]);
      expect(await fetched()).toBe(25);
      expect(await submitted()).toBe(25);
      expect(await metricValue(metrics.repairCycles, { peer_id: 'paris', result: 'partial' })).toBe(2);
      expect(await metricValue(metrics.repairCycles, { peer_id: 'paris', result: 'repaired' })).toBe(1);
      expect(await metricValue(metrics.repairCycles, { peer_id: 'paris', result: 'in_sync' })).toBe(1);
      // Branches, not cycles: every cycle found several (the last one only where paris must pull from london).
      expect(divergentBranches).toBeGreaterThan(4);
      expect(await metricValue(metrics.merkleDivergences, { peer_id: 'paris' })).toBe(divergentBranches);
      expect(scheduler.lastRepair('paris')).toMatchObject({ result: 'in_sync', items: 0 });
      expect(await a.store.keyCount()).toBe(30);

      await schedulerFor(b, [a]).scheduler.repairNow();
      a.clock.ms += 5_000; // past the peer-root cache
      expect((await scheduler.repairNow())[0]!.result).toBe('in_sync');
    } finally {
      await closeAll([a, b]);
    }
  });

  it('refuses a peer Redis without a store layout (counted every cycle, logged once) and one with another tree format', async () => {
    const a = await openNode(0, 'london');
    const b = await openNode(1, 'paris');
    try {
      await a.store.put('k', Buffer.from('v'));
      // A Redis that holds no replication-engine store, e.g. a plain Rust sync-engine node.
      const barePrefix = uniquePrefix('bare');
      await clients[2]!.xadd(`${barePrefix}cdc`, '*', 'op', 'DEL', 'key', 'x', 'meta', '{}');
      const bare: StoreReader = new RedisStoreReader(clients[2]!, barePrefix);
      const { logger, lines } = capturingLogger();
      const metrics = new EngineMetrics();
      const scheduler = new ColdPathScheduler({ store: a.store, metrics, logger, settings: SETTINGS, tombstoneTtlMs: 24 * HOUR, now: () => a.clock.ms });
      const peer = (id: string, reader: StoreReader) => ({
        peerId: id, priority: 0, reader, isCatchingUp: () => false, canRequest: () => true, onSuccess: () => undefined, onFailure: () => undefined,
      });
      scheduler.setPeers([peer('rusty', bare), peer('paris', b.reader)]);

      // Another tree format on paris.
      await clients[1]!.hset(b.store.keys.meta, META_FIELDS.format, 'tictac/v9;sha256-xor;branches=16;buckets=16');
      for (let i = 0; i < 3; i++) {
        const results = await scheduler.repairNow();
        expect(results).toEqual([
          { peerId: 'paris', result: 'skipped', reason: 'tree_format_mismatch', requested: false },
          { peerId: 'rusty', result: 'skipped', reason: 'no_store_layout', requested: false },
        ]);
      }
      expect(await metricValue(metrics.repairSkipped, { peer_id: 'rusty', reason: 'no_store_layout' })).toBe(3);
      expect(await metricValue(metrics.repairSkipped, { peer_id: 'paris', reason: 'tree_format_mismatch' })).toBe(3);
      const warned = (reason: string) => lines.filter((l) => l.level === 40 && l.reason === reason);
      expect(warned('no_store_layout')).toHaveLength(1);
      expect(warned('tree_format_mismatch')).toHaveLength(1);
      expect(String(warned('tree_format_mismatch')[0]!.msg)).toContain('tictac/v9');
      expect(scheduler.lastRepair('rusty')).toMatchObject({ result: 'failed', items: 0, error: expect.stringContaining('no_store_layout') });
      expect(await metricValue(metrics.repairCycles, {})).toBe(0);
      expect(await b.store.get('k')).toBeNull(); // nothing crossed

      // Paris fixed: the cold path resumes (and says so once).
      await clients[1]!.hset(b.store.keys.meta, META_FIELDS.format, (await a.store.treeFormat())!);
      expect((await scheduler.repairNow('paris'))[0]!.result).toBe('in_sync'); // compared again: nothing to pull
      expect(lines.filter((l) => String(l.msg).includes('comparable again'))).toHaveLength(1);
    } finally {
      await closeAll([a, b]);
    }
  });
});

describe('compareWithPeer', () => {
  /** The reader, but fetching content is an error: comparing must decide on stamps alone. */
  function noContent(reader: StoreReader): StoreReader & { calls: string[] } {
    const calls: string[] = [];
    const wrap = <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) => (...args: A) => {
      calls.push(name);
      return fn(...args);
    };
    return {
      calls,
      treeFormat: wrap('treeFormat', () => reader.treeFormat()),
      merkleRoot: wrap('merkleRoot', () => reader.merkleRoot()),
      branchDigests: wrap('branchDigests', () => reader.branchDigests()),
      bucketDigests: wrap('bucketDigests', (b: readonly string[]) => reader.bucketDigests(b)),
      bucketLeaves: wrap('bucketLeaves', (b: readonly string[]) => reader.bucketLeaves(b)),
      fetchChanges: () => Promise.reject(new Error('compare must not fetch content')),
    };
  }

  it('reports who wins each divergent key without fetching content', async () => {
    const a = await openNode(0, 'london');
    const b = await openNode(1, 'paris');
    try {
      const shared = putChange('same', 'v', BASE, 'rome');
      await a.store.applyChanges([
        shared,
        putChange('only-local', 'l', BASE, 'rome'),
        putChange('peer-newer', 'old', BASE + 1, 'rome'),
        putChange('local-newer', 'new', BASE + 9, 'rome'),
        putChange('deleted-on-peer', 'x', BASE + 1, 'rome'),
        putChange('conflict', 'mine', BASE + 5, 'rome'),
      ]);
      await b.store.applyChanges([
        shared,
        putChange('only-peer', 'p', BASE, 'rome'),
        putChange('peer-newer', 'new', BASE + 2, 'rome'),
        putChange('local-newer', 'old', BASE + 9, 'berlin'), // same hlc, smaller origin: loses
        delChange('deleted-on-peer', BASE + 3, 'oslo'),
        putChange('conflict', 'theirs', BASE + 5, 'rome'), // impossible under the model: same stamp, other content
      ]);
      const local = noContent(a.reader);
      const peer = noContent(b.reader);
      const report = await compareWithPeer(local, peer);
      const winners = Object.fromEntries(report.keys.map((k) => [k.key, k.winner]));
      expect(winners).toEqual({
        'only-local': 'local', 'only-peer': 'peer', 'peer-newer': 'peer', 'local-newer': 'local', 'deleted-on-peer': 'peer', conflict: 'equal',
      });
      expect(report).toMatchObject({ inSync: false, peerWins: 3, localWins: 2, conflicts: 1, truncated: false, resumeBranch: null });
      expect(report.keys.find((k) => k.key === 'only-peer')).toMatchObject({ local: null, peer: { origin: 'rome', deleted: false } });
      expect(report.keys.find((k) => k.key === 'deleted-on-peer')?.peer).toMatchObject({ deleted: true, hash: '', origin: 'oslo' });
      expect(report.divergentBuckets).toBeGreaterThanOrEqual(1);
      expect(report.roundTrips).toBeGreaterThanOrEqual(4); // roots, branches, bucket digests, leaves
      expect(peer.calls).not.toContain('treeFormat');

      // maxKeys caps the peer winners collected and says there is more.
      const capped = await compareWithPeer(a.reader, b.reader, { maxKeys: 2 });
      expect(capped.peerWins).toBe(2);
      expect(capped.truncated).toBe(true);
      expect(capped.resumeBranch).toMatch(/^[0-9a-f]{2}$/);
      expect(capped.keys.filter((k) => k.winner === 'peer')).toHaveLength(2);

      // Equal roots: one round trip, nothing else read.
      const self = noContent(a.reader);
      expect(await compareWithPeer(a.store, self)).toMatchObject({ inSync: true, roundTrips: 1, keys: [] });
      expect(self.calls).toEqual(['merkleRoot']);
    } finally {
      await closeAll([a, b]);
    }
  });
});

describe('tombstones past the horizon', () => {
  it('are neither fetched nor re-applied, and a fresh one is', async () => {
    const a = await openNode(0, 'london');
    const b = await openNode(1, 'paris');
    const ttl = HOUR;
    const now = BASE + 10 * HOUR;
    a.clock.ms = now;
    b.clock.ms = now;
    try {
      await b.store.applyChanges([
        delChange('old-del', now - 2 * ttl, 'rome'), // expired, only on paris
        delChange('both-old', now - 3 * ttl, 'rome'), // expired on both, different stamps
        delChange('old-del-beats-put', now - 2 * ttl, 'rome'), // expired, newer than london's put
        delChange('fresh-del', now - ttl / 2, 'rome'), // within the horizon
        putChange('fresh-del', 'x', now - ttl, 'rome'), // (older: stale)
      ]);
      await a.store.applyChanges([
        delChange('old-del-a', now - 2 * ttl, 'oslo'), // expired, only on london
        delChange('both-old', now - 2 * ttl, 'oslo'),
        putChange('old-del-beats-put', 'resurrectable', now - 3 * ttl, 'oslo'),
        putChange('fresh-del', 'x', now - ttl, 'rome'),
      ]);
      const fetchedKeys: string[] = [];
      const spy: StoreReader = Object.assign(Object.create(b.reader) as StoreReader, {
        fetchChanges: (keys: readonly string[]) => {
          fetchedKeys.push(...keys);
          return b.reader.fetchChanges(keys);
        },
      });
      const outcome = await repairWithPeer({ store: a.store, peer: spy, peerId: 'paris', maxItems: 100, tombstoneTtlMs: ttl, now: () => now });
      if (outcome.result === 'refused' || outcome.result === 'failed') throw new Error(outcome.result);
      expect(fetchedKeys).toEqual(['fresh-del']);
      expect(outcome).toMatchObject({ result: 'repaired', fetched: 1, submitted: 1, applied: 1 });
      const leavesA = await allLeaves(a.store);
      expect(leavesA.has('old-del')).toBe(false);
      expect(leavesA.get('fresh-del')).toMatchObject({ deleted: true });
      expect(leavesA.get('both-old')).toMatchObject({ origin: 'oslo' }); // untouched
      expect((await a.store.get('old-del-beats-put'))?.content.toString()).toBe('resurrectable'); // documented: gc_grace

      // The other way: london's expired tombstones do not travel either; a second pass changes nothing.
      const back = await repairWithPeer({ store: b.store, peer: a.reader, peerId: 'london', maxItems: 100, tombstoneTtlMs: ttl, now: () => now });
      expect(back).toMatchObject({ result: 'in_sync', fetched: 0, submitted: 0 });
      expect((await allLeaves(b.store)).has('old-del-a')).toBe(false);
      const again = await repairWithPeer({ store: a.store, peer: b.reader, peerId: 'paris', maxItems: 100, tombstoneTtlMs: ttl, now: () => now });
      expect(again).toMatchObject({ result: 'in_sync', fetched: 0, submitted: 0 });

      // The comparison shows them as absent, not as differences to act on.
      const report = await compareWithPeer(a.reader, b.reader, { tombstoneHorizonHlc: tombstoneHorizon(now, ttl) });
      expect(report).toMatchObject({ inSync: false, keys: [], peerWins: 0, localWins: 0 });
      expect(tombstoneHorizon(now, ttl)).toBe(formatHlc(now - ttl, 0));
    } finally {
      await closeAll([a, b]);
    }
  });
});
