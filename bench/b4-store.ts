/**
 * B4 — local store writes: `put` throughput through the application API at 10,000 and
 * 1,000,000 keys (`--quick`: 10,000 and 100,000), one caller at a time ("single": each put
 * awaited before the next, latency-bound) and 64 concurrent callers ("pipelined": ioredis
 * pipelines their commands on the store's connection).
 *
 * Method from bench/store.ts (its key picker and fill are reused): one redis-server per size
 * holding only that namespace, filled with N keys; measured puts overwrite keys picked at
 * random, so the namespace holds exactly N keys throughout; a discarded warm-up per size;
 * runs alternate between the sizes. Baseline: plain Redis SETs of the same payload on the
 * same connection, same concurrency (what a put costs beyond a bare write).
 */
import { RedisStore } from '../src/store/redis-store.js';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { uniquePrefix } from '../test/support/store-fixtures.js';
import { row, type Row, type RunOptions, type Section } from './report.js';
import { fill, payload, picker } from './store.js';
import { fmt, median } from './support.js';

const CONCURRENCY = 64;

interface Subject {
  size: number;
  server: RedisServer;
  store: RedisStore;
  single: number[];
  pipelined: number[];
  setSingle: number[];
  setPipelined: number[];
}

async function rate(count: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await op(next++);
  }));
  return count / ((performance.now() - t0) / 1000);
}

async function round(s: Subject, seed: number, singleCount: number, pipelinedCount: number, record: boolean): Promise<void> {
  const keys = Array.from({ length: Math.max(singleCount, pipelinedCount) }, picker(seed, s.size));
  const put = (i: number) => s.store.put(keys[i]!, payload, { contentType: 'json' });
  // The SET baseline writes under its own names, so it never touches the store's keys.
  const set = (i: number) => s.store.client.set(`baseline:${keys[i]!}`, payload);
  const single = await rate(singleCount, 1, put);
  const pipelined = await rate(pipelinedCount, CONCURRENCY, put);
  const setSingle = await rate(singleCount, 1, set);
  const setPipelined = await rate(pipelinedCount, CONCURRENCY, set);
  if (!record) return;
  s.single.push(single);
  s.pipelined.push(pipelined);
  s.setSingle.push(setSingle);
  s.setPipelined.push(setPipelined);
  if ((await s.store.keyCount()) !== s.size) throw new Error(`B4: the ${s.size}-key namespace changed size`);
}

export async function runB4(o: RunOptions): Promise<Section> {
  const sizes = o.quick ? [10_000, 100_000] : [10_000, 1_000_000];
  const runs = o.runs ?? (o.quick ? 3 : 5);
  const singleCount = o.quick ? 1_000 : 3_000;
  const pipelinedCount = o.quick ? 5_000 : 20_000;
  const subjects: Subject[] = [];
  try {
    for (const size of sizes) {
      const server = await startRedis();
      const store = await RedisStore.connect({ url: server.url, prefix: uniquePrefix('b4'), nodeId: 'bench' });
      subjects.push({ size, server, store, single: [], pipelined: [], setSingle: [], setPipelined: [] });
      const t = performance.now();
      await fill(store, size);
      o.log(`B4: filled ${fmt(size)} keys in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    for (const s of subjects) await round(s, 999, singleCount, pipelinedCount, false);
    for (let r = 0; r < runs; r++) {
      for (const s of r % 2 === 0 ? subjects : [...subjects].reverse()) await round(s, 100 + r, singleCount, pipelinedCount, true);
      o.log(`B4 run ${r + 1}/${runs}: ${subjects.map((s) => `${fmt(s.size)} keys: single ${fmt(s.single[r]!)}/s, pipelined ${fmt(s.pipelined[r]!)}/s`).join('; ')}`);
    }
    const rows: Row[] = [];
    for (const s of subjects) {
      const at = `at ${fmt(s.size)} keys`;
      rows.push(row(`put/s, single caller, ${at}`, 'puts/s', s.single, { baseline: { name: 'SET, single caller', value: median(s.setSingle) } }));
      rows.push(row(`put/s, ${CONCURRENCY} concurrent, ${at}`, 'puts/s', s.pipelined, { baseline: { name: `SET, ${CONCURRENCY} concurrent`, value: median(s.setPipelined) } }));
    }
    return {
      id: 'B4',
      title: `store writes (put, ${sizes.map((n) => fmt(n)).join(' and ')} keys)`,
      rows,
      notes: [
        `Median of ${runs} runs of ${fmt(singleCount)} single-caller and ${fmt(pipelinedCount)} concurrent puts (~190-byte JSON) per size, each overwriting a random existing key; sizes alternate; one warm-up round discarded.`,
        'Baseline: plain SET of the same payload on the store\'s connection, same concurrency.',
      ],
      details: Object.fromEntries(subjects.map((s) => [s.size, { single: s.single, pipelined: s.pipelined, setSingle: s.setSingle, setPipelined: s.setPipelined }])),
    };
  } finally {
    for (const s of subjects) await s.store.close();
    await Promise.all(subjects.map((s) => s.server.stop()));
  }
}
