/**
 * bench:apply-cost — where the local Redis spends its time in apply.lua, the script every
 * replicated change goes through (B1 is bound by it: see BENCHMARKS.md).
 *   npm run bench:apply-cost [-- --events N] [-- --rounds N]
 *
 * Method: the B1 workload (200-byte JSON PUTs, 10% repeated keys, one origin) is applied with
 * `RedisStore.applyChanges` in batches of 1,000 (as the hot path sends them) to a fresh
 * redis-server, once with the real script and once with each variant below, which leaves out
 * or replaces one part of it. Redis's own time per change (INFO commandstats, EVALSHA + EVAL) is
 * the figure: the difference to `full` is what that part costs. Variants run in turn, `--rounds`
 * times (median reported), so drift on a shared machine hits them alike. The variants are for
 * measurement only: most of them leave a store that is no longer correct.
 */
import { Redis } from 'ioredis';
import { RedisStore } from '../src/store/redis-store.js';
import { LuaScript, scripts } from '../src/store/commands/index.js';
import { startRedis, stopAllRedis } from '../test/support/redis-server.js';
import { workload } from './cdc-events.js';
import { fmt, intArg, machine, median, scriptTime } from './support.js';

const EVENTS = intArg('events', 200_000);
const ROUNDS = intArg('rounds', 3);
const BATCH = 1_000;

const RECORD_SET = "redis.call('SET', k_record(p, key), content)";

/** Each variant: what it leaves out, and the source edit that does it. */
const VARIANTS: { name: string; what: string; edit: (s: string) => string }[] = [
  { name: 'full', what: 'the script as shipped', edit: (s) => s },
  {
    name: 'no bucket digest', what: 'the leaf written without its bucket digest: no XOR of old and new leaf digests into the bucket, nor into the pending branch delta',
    edit: (s) => s.replace('  leaf_replace(leaves, bucket, key, old_digest, old_bucket, leaf, digest)',
      "  redis.call('HSET', leaves, key, leaf)"),
  },
  { name: 'no tree flush', what: 'no write of branch and root digests at the end of the script', edit: (s) => s.replace('  tree_flush(p)\n  index_flush(p)', '  index_flush(p)') },
  {
    name: 'no old digest', what: 'the digest of an overwritten leaf not recomputed (v4 keeps no digest in the leaf)',
    edit: (s) => s.replace('local old_digest = old_raw and stored_leaf_digest(p, key, old_raw)', 'local old_digest = false'),
  },
  {
    name: 'no leaf write', what: 'neither the leaf nor the bucket digest written (the digest math still done)',
    edit: (s) => s.replace("      redis.call('HSET', leaves, key, new_raw, BUCKET_FIELD, spack(WORDS, a, b, c, d, e))", '      local _ = spack(WORDS, a, b, c, d, e)'),
  },
  { name: 'no record write', what: 'no SET of the record\'s content', edit: (s) => s.replace(RECORD_SET, 'local _ = nil') },
  { name: 'no re-emit', what: 'no XADD to the node\'s own stream (as with emit_replicated: false)', edit: (s) => s.replace("local do_emit = ARGV[2] == '1'", 'local do_emit = false') },
  { name: 'no key index', what: 'no live-key pages nor tombstone index: no page lookup, ZADD and ZCARD per new key', edit: (s) => s.replace('  tree_flush(p)\n  index_flush(p)', '  tree_flush(p)') },
];

async function measure(source: string): Promise<number> {
  // Swapped in for this measurement only; RedisStore runs whatever scripts.apply holds.
  (scripts as { apply: LuaScript }).apply = new LuaScript('apply', source);
  const server = await startRedis();
  const admin = new Redis(server.url);
  const store = await RedisStore.connect({ url: server.url, prefix: 'n:', nodeId: 'local' });
  try {
    // Warm-up (script load, JIT), on other keys; not counted.
    for (const chunk of workload({ events: 20_000, origin: 'warm', seed: 7 }, BATCH)) {
      await store.applyChanges(chunk.map((w) => ({ ...w.change, key: `warm/${w.key}` })));
    }
    await admin.config('RESETSTAT');
    let n = 0;
    for (const chunk of workload({ events: EVENTS, origin: 'peer' }, BATCH)) {
      await store.applyChanges(chunk.map((w) => w.change));
      n += chunk.length;
    }
    return (await scriptTime(admin)) / n;
  } finally {
    await store.close();
    admin.disconnect();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const shipped = scripts.apply.source;
  const samples = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  console.log(`apply.lua cost by part: ${fmt(EVENTS)} changes per run, batches of ${fmt(BATCH)}, ${ROUNDS} round(s)`);
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const v of VARIANTS) {
        const source = v.edit(shipped);
        if (v.name !== 'full' && source === shipped) throw new Error(`variant "${v.name}" no longer matches apply.lua: update its edit`);
        const us = await measure(source);
        samples.get(v.name)!.push(us);
        console.log(`  round ${r + 1}: ${v.name}: ${us.toFixed(2)} µs/change`);
      }
    }
  } finally {
    (scripts as { apply: LuaScript }).apply = new LuaScript('apply', shipped);
    await stopAllRedis();
  }
  const full = median(samples.get('full')!);
  console.log('\n| variant | what it leaves out | Redis µs per change (median, min–max) | Δ to full |\n|---|---|---:|---:|');
  for (const v of VARIANTS) {
    const s = samples.get(v.name)!;
    const m = median(s);
    console.log(`| ${v.name} | ${v.what} | ${m.toFixed(2)} (${Math.min(...s).toFixed(2)}–${Math.max(...s).toFixed(2)}) | ${v.name === 'full' ? '—' : (m - full).toFixed(2)} |`);
  }
  console.log(`\nmachine: ${JSON.stringify(machine())}`);
}

await main();
