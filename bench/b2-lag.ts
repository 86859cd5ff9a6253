/**
 * B2 — replication lag. Three nodes, each with its own redis-server and its own engine process
 * (bench/engine-child.ts), full mesh with default settings (emit_replicated on, cold path off).
 * The bench process writes to each node's store through the application API (`put`, ~200-byte
 * JSON), 2,000 puts/s per node, paced every 10 ms, for 30 s (`--quick`: 5 s), after a 2 s
 * warm-up at the same rate that is not counted.
 *
 * Lag of one write on one other node = the moment that node's `applyChanges` call returned
 * with the change `applied` − the write's `updated_at` (the origin's wall clock when put() was
 * called, in the bench process). Measured exactly per change: the engine processes wrap their
 * store's applyChanges (every process reads the same system clock; ms resolution). A write
 * reaches each other node either from its origin or re-emitted by the third node, whichever
 * comes first; later copies are LWW duplicates and not counted. Every write must reach both
 * other nodes: the sample count is checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RedisStore } from '../src/store/redis-store.js';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { recordContent, rng } from './cdc-events.js';
import { daemonNodeFlags, EngineHost } from './engine-host.js';
import { percentile, row, type RunOptions, type Section } from './report.js';
import { fmt } from './support.js';

const NODES = 3;
const RATE = 2000;
const WARMUP_S = 2;
const KEYS_PER_NODE = 20_000;
export const B2_P99_TARGET_MS = 50;

export interface B2Result {
  section: Section;
  /** Peak RSS (KiB) of each engine process, per run. */
  peakRssKb: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nodeId = (i: number): string => `node-${i}`;
const prefix = (i: number): string => `n${i}:`;

/** Writes `rate` puts/s to `store` for `seconds`, keys `${label}/${node}/…`; returns how many. */
async function writeAtRate(store: RedisStore, node: number, label: string, seconds: number, seed: number): Promise<number> {
  const rand = rng(seed);
  const t0 = performance.now();
  const total = Math.round(RATE * seconds);
  let issued = 0;
  const inFlight = new Set<Promise<unknown>>();
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
    for (; issued < due; issued++) {
      const id = issued % KEYS_PER_NODE;
      const p = store.put(`${label}/${node}/${id}`, recordContent(id, issued, 200, rand), { contentType: 'json' });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await sleep(10);
  }
  await Promise.all(inFlight);
  return total;
}

async function roots(stores: readonly RedisStore[]): Promise<string[]> {
  return Promise.all(stores.map((s) => s.merkleRoot()));
}

async function oneRun(o: RunOptions, seconds: number, run: number) {
  const servers: RedisServer[] = await Promise.all(Array.from({ length: NODES }, () => startRedis()));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-bench-b2-'));
  const hosts: EngineHost[] = [];
  const stores: RedisStore[] = [];
  try {
    for (let i = 0; i < NODES; i++) {
      stores.push(await RedisStore.connect({ url: servers[i]!.url, prefix: prefix(i), nodeId: nodeId(i) }));
      hosts.push(await EngineHost.spawn({ profile: o.profile, label: `b2-run${run}-node${i}` }));
    }
    await Promise.all(hosts.map((h, i) => h.start({
      nodeId: nodeId(i), localUrl: servers[i]!.url, localPrefix: prefix(i),
      peers: servers.flatMap((s, j) => (j === i ? [] : [{ nodeId: nodeId(j), url: s.url, prefix: prefix(j) }])),
      settings: JSON.parse(process.env.B2_SETTINGS ?? '{}') as Record<string, unknown>, cursorPath: path.join(tmp, `cursors-${i}.db`), recordLag: true, lagKeyPrefix: 'm/',
    })));
    await Promise.all(stores.map((s, i) => writeAtRate(s, i, 'warm', WARMUP_S, 1000 + i)));
    const written = await Promise.all(stores.map((s, i) => writeAtRate(s, i, 'm', seconds, 2000 + i)));
    // Converged: every node holds the same records (equal Merkle roots).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await roots(stores);
      if (r.every((x) => x === r[0])) break;
      if (Date.now() > deadline) throw new Error(`B2: nodes did not converge within 60 s: ${r.join(' ')}`);
      await sleep(20);
    }
    const stopped = await Promise.all(hosts.map((h) => h.stop()));
    const lags = stopped.flatMap((s) => s.lagsMs ?? []);
    const expected = written.reduce((a, b) => a + b, 0) * (NODES - 1);
    if (lags.length !== expected) throw new Error(`B2: ${lags.length} lag samples, expected ${expected} (each write applied once on each other node)`);
    const sorted = [...lags].sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted[sorted.length - 1]!,
      samples: lags.length, peakRssKb: stopped.map((s) => s.maxRssKb), cpuMs: stopped.map((s) => s.cpuMs),
    };
  } finally {
    await Promise.all(hosts.map((h) => h.kill()));
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function runB2(o: RunOptions): Promise<B2Result> {
  const seconds = o.quick ? 5 : 30;
  const runs = o.runs ?? (o.quick ? 1 : 3);
  const p50: number[] = [];
  const p99: number[] = [];
  const p999: number[] = [];
  const max: number[] = [];
  const rss: number[] = [];
  let samples = 0;
  for (let r = 0; r < runs; r++) {
    const res = await oneRun(o, seconds, r);
    p50.push(res.p50);
    p99.push(res.p99);
    p999.push(res.p999);
    max.push(res.max);
    rss.push(...res.peakRssKb);
    samples = res.samples;
    o.log(`B2 run ${r + 1}/${runs}: lag p50 ${res.p50} ms, p99 ${res.p99} ms, p99.9 ${res.p999} ms, max ${res.max} ms over ${fmt(res.samples)} applies; ` +
      `engine peak RSS ${res.peakRssKb.map((k) => fmt(k / 1024)).join('/')} MiB, CPU ${res.cpuMs.map((c) => fmt(c)).join('/')} ms`);
  }
  const section: Section = {
    id: 'B2',
    title: `replication lag (3 nodes × ${fmt(RATE)} puts/s for ${seconds} s)`,
    rows: [
      row('apply lag p50', 'ms', p50),
      row('apply lag p99', 'ms', p99, { target: { op: '<=', value: B2_P99_TARGET_MS } }),
      row('apply lag p99.9', 'ms', p999),
      row('apply lag max', 'ms', max),
    ],
    notes: [
      `${fmt(samples)} applies per run (every write on both other nodes); median of ${runs} run(s); each engine in its own process (node ${daemonNodeFlags().join(' ')}, as the daemon's launcher), the writers in the bench process.`,
      'Lag = when the receiving engine\'s applyChanges returned with the change applied − the write\'s updated_at (origin wall clock at put()); exact per change, ms resolution.',
    ],
    details: { seconds, rate: RATE, p50, p99, p999, max, peakRssKb: rss },
  };
  return { section, peakRssKb: rss };
}
