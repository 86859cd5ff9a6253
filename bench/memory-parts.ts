/**
 * Where a record's Redis memory goes (docs/wire-format.md): B7's records (200,000 of ~190-byte JSON,
 * keys of 15 bytes, `cdc_maxlen: 1000`) written through the store into a fresh redis-server, then
 * each part of the layout deleted in turn, `used_memory` read before and after: what the part cost.
 * The same keys and values written as plain SETs into another fresh server are the baseline.
 *
 *   npx tsx bench/memory-parts.ts [--records 200000]
 */
import { Redis } from 'ioredis';
import { parseArgs } from 'node:util';
import { RedisStore } from '../src/store/redis-store.js';
import { startRedis, stopAllRedis } from '../test/support/redis-server.js';
import { b7Body, b7Key } from './b6-http-put.js';
import { machine } from './support.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' } } });
const records = Number(values.records);
const usedMemory = async (r: Redis): Promise<number> => Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);

/** Deletes every key matching `pattern` (SCAN + DEL: freed before the next memory reading). */
async function drop(r: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
    if (keys.length > 0) await r.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

console.log(JSON.stringify(machine()));
const plain = await startRedis();
const node = await startRedis();
const p = new Redis(plain.url);
const n = new Redis(node.url);
try {
  const p0 = await usedMemory(p);
  for (let i = 0; i < records; i += 1000) {
    const pipe = p.pipeline();
    for (let j = i; j < Math.min(records, i + 1000); j++) pipe.set(b7Key(j), b7Body(j));
    await pipe.exec();
  }
  const setBytes = (await usedMemory(p)) - p0;

  const store = await RedisStore.connect({ url: node.url, prefix: 'n:', nodeId: 'london', cdcMaxlen: 1000 });
  const n0 = await usedMemory(n);
  for (let i = 0; i < records; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, records - i) }, (_, k) => store.put(b7Key(i + k), b7Body(i + k), { contentType: 'json' })));
  }
  await store.close();
  let before = await usedMemory(n);
  const total = before - n0;
  const rows: [string, number][] = [];
  for (const [part, pattern] of [
    ['the live-key pages (`m:kp:*`, `m:kx`)', 'n:m:k[px]*'],
    ['the leaves (`t:lf:*`: leaves and bucket digests)', 'n:t:lf:*'],
    ['the stream, the branch, meta and origin hashes', 'n:[cmt][dr:]*'],
    ['the records (`r:*`)', 'n:r:*'],
  ] as const) {
    await drop(n, pattern);
    const after = await usedMemory(n);
    rows.push([part, before - after]);
    before = after;
  }
  console.log(`\n${records} records; plain SET: ${(setBytes / records).toFixed(0)} B/record; store: ${(total / records).toFixed(0)} B/record, ${((total - setBytes) / records).toFixed(0)} over SET\n`);
  console.log('| part | bytes per record |\n|---|---:|');
  for (const [part, bytes] of rows) console.log(`| ${part} | ${(bytes / records).toFixed(1)} |`);
} finally {
  p.disconnect();
  n.disconnect();
  await stopAllRedis();
}
