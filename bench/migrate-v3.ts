/**
 * How long the v3 → v4 store migration takes when an engine connects to a v3 store (docs/operations.md:
 * upgrading): N records of ~190-byte JSON (10% tombstones, three origins) written in v3's layout into
 * a fresh redis-server, then RedisStore.connect timed until the store is v4; the same store's Redis
 * memory before and after.
 *
 *   npx tsx bench/migrate-v3.ts [--records 200000] [--runs 3]
 */
import { Redis } from 'ioredis';
import { parseArgs } from 'node:util';
import { RedisStore } from '../src/store/redis-store.js';
import { TREE_FORMAT } from '../src/merkle/tree-shape.js';
import type { Change } from '../src/model/change.js';
import { delChange, putChange } from '../test/support/changes.js';
import { startRedis } from '../test/support/redis-server.js';
import { writeV3Store } from '../test/support/v3-store.js';
import { machine, median } from './support.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' } } });
const records = Number(values.records);
const runs = Number(values.runs);
const ORIGINS = ['london', 'paris', 'berlin'];

function changes(): Change[] {
  const t = 1_700_000_000_000;
  return Array.from({ length: records }, (_, i) => {
    const key = `patient/${String(i).padStart(8, '0')}`;
    if (i % 10 === 9) return delChange(key, t + i, ORIGINS[i % 3]!);
    return putChange(key, JSON.stringify({ id: i, name: `patient ${i}`, ward: `w${i % 40}`, notes: 'x'.repeat(120) }), t + i, ORIGINS[i % 3]!, { contentType: 'json' });
  });
}

const usedMemory = async (r: Redis): Promise<number> => Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);
console.log(JSON.stringify(machine()));
const all = changes();
const samples: number[] = [];
for (let run = 1; run <= runs; run++) {
  const server = await startRedis();
  const raw = new Redis(server.url);
  try {
    await writeV3Store(raw, 'n:', all);
    const before = await usedMemory(raw);
    const t0 = performance.now();
    const store = await RedisStore.connect({ url: server.url, prefix: 'n:', nodeId: 'london' });
    const ms = performance.now() - t0;
    if ((await store.treeFormat()) !== TREE_FORMAT) throw new Error('not migrated');
    if ((await store.keyCount()) !== all.filter((c) => c.op === 'PUT').length) throw new Error('live keys lost');
    const after = await usedMemory(raw);
    await store.close();
    samples.push(ms);
    console.log(`run ${run}: ${records} records migrated in ${Math.round(ms)} ms; Redis memory ${Math.round(before / records)} → ${Math.round(after / records)} B/record`);
  } finally {
    raw.disconnect();
    await server.stop();
  }
}
console.log(`median ${Math.round(median(samples))} ms for ${records} records (min ${Math.round(Math.min(...samples))}, max ${Math.round(Math.max(...samples))}, ${runs} runs)`);
