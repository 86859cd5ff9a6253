/**
 * bench:store — local `put`/s and `applyChanges` changes/s at 10k and 200k keys under one
 * prefix (issue: the two must be within 20% of each other: the tree update is O(depth),
 * independent of how many keys share a prefix).
 *   npm run bench:store [-- --quick]
 *
 * Method, and why:
 * - One redis-server per key count, each holding only that prefix's N keys.
 * - Measured writes overwrite existing keys picked at random, so the namespace holds exactly N
 *   keys throughout. (Writing new keys, as this bench first did, measured the "10k" case at
 *   30k–110k keys and the "200k" case at 220k–300k.)
 * - A warm-up round per size is discarded: the first put otherwise pays NOSCRIPT → EVAL
 *   fallbacks for the write script and V8's JIT warm-up, which made the 10k figures (run
 *   first) look slower than the 200k ones.
 * - Runs alternate between the two sizes, so drift on a shared machine hits both alike.
 * - Besides client-side rates, Redis's own time per script call (INFO commandstats) is
 *   reported: it is the store's cost with client and scheduling noise taken out.
 */
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { RedisStore } from '../src/store/redis-store.js';
import { formatHlc } from '../src/model/hlc.js';
import { uniquePrefix } from '../test/support/store-fixtures.js';
import { putChange } from '../test/support/changes.js';
import { machine, markdownTable, printFigures, summarize, type Figure } from './support.js';

const quick = process.argv.includes('--quick');
const SIZES = quick ? [10_000, 50_000] : [10_000, 200_000];
const MEASURE = quick ? 3_000 : 10_000;
const RUNS = quick ? 3 : 7;
const CONCURRENCY = 64;
const APPLY_BATCH = 100;
const FILL_BATCH = 500;
/** Stamps of the measured applies: far above the fill's and the puts' (wall clock), so each one wins. */
const APPLY_EPOCH_MS = 4_000_000_000_000;
export const payload = Buffer.from(JSON.stringify({ name: 'Alice', ward: 7, notes: 'x'.repeat(150) }));

interface Subject {
  size: number;
  server: RedisServer;
  store: RedisStore;
  /** Applies so far, to keep every apply stamp unique and rising. */
  applied: number;
  samples: { put: number[]; apply: number[]; putUs: number[]; applyUs: number[] };
}

/** Deterministic key picks (xorshift32), so every run of the bench writes the same keys. */
export function picker(seed: number, size: number): () => string {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return `fill/${(x >>> 0) % size}`;
  };
}

export async function fill(store: RedisStore, n: number): Promise<void> {
  for (let i = 0; i < n; i += FILL_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + FILL_BATCH); j++) batch.push(putChange(`fill/${j}`, payload, 1_700_000_000_000 + j, 'filler'));
    await store.applyChanges(batch);
  }
}

/** Redis's microseconds in EVALSHA since the last reset, and the call count. */
export async function evalshaTime(redis: Redis): Promise<{ usec: number; calls: number }> {
  const line = /^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m.exec(await redis.info('commandstats'));
  return { calls: Number(line?.[1] ?? 0), usec: Number(line?.[2] ?? 0) };
}

async function putRun(s: Subject, seed: number): Promise<{ rate: number; usPerCall: number }> {
  const pick = picker(seed, s.size);
  const keys = Array.from({ length: MEASURE }, pick);
  await s.store.client.config('RESETSTAT');
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < MEASURE) await s.store.put(keys[next++]!, payload, { contentType: 'json' });
  }));
  const rate = MEASURE / (Number(process.hrtime.bigint() - start) / 1e9);
  const t = await evalshaTime(s.store.client);
  return { rate, usPerCall: t.usec / t.calls };
}

async function applyRun(s: Subject, seed: number): Promise<{ rate: number; usPerChange: number }> {
  const pick = picker(seed, s.size);
  const changes = Array.from({ length: MEASURE }, () => {
    const hlc = formatHlc(APPLY_EPOCH_MS + s.applied++, 0);
    return putChange(pick(), payload, 1_800_000_000_000, 'peer', { hlc });
  });
  await s.store.client.config('RESETSTAT');
  let applied = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < changes.length; i += APPLY_BATCH) {
    for (const outcome of await s.store.applyChanges(changes.slice(i, i + APPLY_BATCH))) if (outcome === 'applied') applied++;
  }
  const rate = MEASURE / (Number(process.hrtime.bigint() - start) / 1e9);
  // Every change must take the full write path (LWW win, record, tree, re-emit), or the figure means nothing.
  if (applied !== MEASURE) throw new Error(`bench: only ${applied} of ${MEASURE} changes were applied`);
  const t = await evalshaTime(s.store.client);
  return { rate, usPerChange: t.usec / MEASURE };
}

async function round(s: Subject, r: number, record: boolean): Promise<void> {
  const put = await putRun(s, 1000 + r);
  const apply = await applyRun(s, 2000 + r);
  if (!record) return;
  s.samples.put.push(put.rate);
  s.samples.putUs.push(put.usPerCall);
  s.samples.apply.push(apply.rate);
  s.samples.applyUs.push(apply.usPerChange);
  if ((await s.store.keyCount()) !== s.size) throw new Error(`bench: the ${s.size}-key namespace changed size`);
}

async function main(): Promise<void> {
  const subjects: Subject[] = [];
  try {
    for (const size of SIZES) {
      const server = await startRedis();
      const store = await RedisStore.connect({ url: server.url, prefix: uniquePrefix('bench'), nodeId: 'bench' });
      subjects.push({ size, server, store, applied: 0, samples: { put: [], apply: [], putUs: [], applyUs: [] } });
      await fill(store, size);
      process.stderr.write(`filled ${size.toLocaleString('en-US')} keys\n`);
    }
    for (const s of subjects) await round(s, -1, false);
    for (let r = 0; r < RUNS; r++) {
      // Alternate which size goes first, so neither always runs right after the other.
      for (const s of r % 2 === 0 ? subjects : [...subjects].reverse()) await round(s, r, true);
      process.stderr.write(`run ${r + 1}/${RUNS}\n`);
    }

    const rows: { name: string; figures: Figure[] }[] = [
      { name: `put/s (${CONCURRENCY} concurrent)`, figures: subjects.map((s) => summarize(`put/s at ${s.size.toLocaleString('en-US')} keys`, 'ops/s', s.samples.put)) },
      { name: `applyChanges changes/s (batches of ${APPLY_BATCH})`, figures: subjects.map((s) => summarize(`applyChanges/s at ${s.size.toLocaleString('en-US')} keys`, 'changes/s', s.samples.apply)) },
      { name: 'Redis µs per put script', figures: subjects.map((s) => summarize(`Redis µs per put at ${s.size.toLocaleString('en-US')} keys`, 'µs', s.samples.putUs)) },
      { name: 'Redis µs per applied change', figures: subjects.map((s) => summarize(`Redis µs per applied change at ${s.size.toLocaleString('en-US')} keys`, 'µs', s.samples.applyUs)) },
    ];
    printFigures('Store (bench:store)', rows.flatMap((r) => r.figures));
    console.log(`\n${markdownTable(SIZES.map((n) => `${n.toLocaleString('en-US')} keys`), rows)}`);
    console.log(`\n${MEASURE.toLocaleString('en-US')} writes per run, median of ${RUNS} runs (min–max); ratio = ${SIZES[1]!.toLocaleString('en-US')} ÷ ${SIZES[0]!.toLocaleString('en-US')}`);
    console.log('machine:', JSON.stringify(machine()));
  } finally {
    for (const s of subjects) await s.store.close();
    await Promise.all(subjects.map((s) => s.server.stop()));
  }
}

// Run when executed (npm run bench:store), not when bench/b4-store.ts imports the helpers above.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
