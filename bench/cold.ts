/**
 * bench:cold — one cold-path repair between two stores on two redis-servers: N keys each
 * (default 1,000,000), D of them divergent on the peer (default 1,000: updates, new keys and
 * deletes, all won by the peer). Reports the time for one `repairWithPeer` to converge, its
 * round trips, the bytes the peer's Redis sent (INFO total_net_output_bytes delta) and the
 * time of an in-sync check.
 *   npm run bench:cold [-- --keys 100000] [-- --divergent 1000]
 */
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { uniquePrefix } from '../test/support/store-fixtures.js';
import { delChange, putChange } from '../test/support/changes.js';
import { RedisStore } from '../src/store/redis-store.js';
import { RedisStoreReader } from '../src/store/store-reader.js';
import { compareWithPeer, repairWithPeer, type RepairRun } from '../src/cold-path/index.js';
import type { Change } from '../src/model/change.js';
import { fmt, intArg, machine, printFigures, summarize, type Figure } from './support.js';

const KEYS = intArg('keys', 1_000_000);
const DIVERGENT = Math.min(intArg('divergent', 1_000), KEYS);
const LOAD_BATCH = 2_000;
const LOAD_CONCURRENCY = 4;
const IN_SYNC_RUNS = 21;
const T0 = 1_700_000_000_000;
const payload = (i: number): Buffer => Buffer.from(JSON.stringify({ id: i, name: `patient ${i}`, ward: i % 40, notes: 'x'.repeat(100) }));

const seconds = (startNs: bigint): number => Number(process.hrtime.bigint() - startNs) / 1e9;

/** Applies `make(i)` for i in [0, n) in big batches, a few in flight (the Lua apply is the bottleneck). */
async function load(store: RedisStore, n: number, make: (i: number) => Change): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: LOAD_CONCURRENCY }, async () => {
    while (next < n) {
      const start = next;
      next = Math.min(n, next + LOAD_BATCH);
      const batch: Change[] = [];
      for (let i = start; i < next; i++) batch.push(make(i));
      await store.applyChanges(batch);
    }
  }));
}

async function outputBytes(client: Redis): Promise<number> {
  const info = await client.info('stats');
  const m = /total_net_output_bytes:(\d+)/.exec(info);
  return m ? Number(m[1]) : NaN;
}

/** Bytes a server sent while `fn` ran, minus what the INFO replies themselves cost. */
async function measureOutput<T>(client: Redis, fn: () => Promise<T>): Promise<{ value: T; bytes: number }> {
  const a = await outputBytes(client);
  const b = await outputBytes(client); // the cost of one INFO reply
  const value = await fn();
  const c = await outputBytes(client);
  return { value, bytes: c - b - (b - a) };
}

function done(o: RepairRun): Extract<RepairRun, { result: 'in_sync' | 'repaired' | 'partial' }> {
  if (o.result === 'refused' || o.result === 'failed') throw new Error(`repair ${o.result}: ${JSON.stringify(o)}`);
  return o;
}

async function main(): Promise<void> {
  const servers: RedisServer[] = await Promise.all([startRedis(), startRedis()]);
  const clients = servers.map((s) => new Redis(s.url));
  const [localServerClient, peerServerClient] = clients as [Redis, Redis];
  const peerReadClient = new Redis(servers[1]!.url);
  try {
    const opts = { emitReplicated: false, cdcMaxlen: 1000 };
    const local = await RedisStore.connect({ url: servers[0]!.url, prefix: uniquePrefix('local'), nodeId: 'london', ...opts });
    const peerStore = await RedisStore.connect({ url: servers[1]!.url, prefix: uniquePrefix('peer'), nodeId: 'paris', ...opts });
    const peer = new RedisStoreReader(peerReadClient, peerStore.keys.prefix);

    // Same N keys on both sides.
    let t = process.hrtime.bigint();
    const base = (i: number): Change => putChange(`patient/${i}`, payload(i), T0 + i, 'origin');
    await Promise.all([load(local, KEYS, base), load(peerStore, KEYS, base)]);
    const loadSec = seconds(t);
    console.log(`loaded ${KEYS.toLocaleString('en-US')} keys into each store in ${loadSec.toFixed(1)} s`);

    // D divergent keys on the peer, spread over the key space: 70% updates, 20% new keys, 10% deletes.
    const step = Math.max(1, Math.floor(KEYS / DIVERGENT));
    await load(peerStore, DIVERGENT, (j) => {
      const i = (j * step) % KEYS;
      const kind = j % 10;
      if (kind === 0) return delChange(`patient/${i}`, T0 + KEYS + j, 'paris');
      if (kind <= 2) return putChange(`new/${j}`, payload(j), T0 + KEYS + j, 'paris');
      return putChange(`patient/${i}`, payload(i + 1), T0 + KEYS + j, 'paris');
    });

    // What the drill-down reads, without repairing (the verify command's work).
    t = process.hrtime.bigint();
    const view = await compareWithPeer(local, peer);
    const compareSec = seconds(t);

    // One repair converges: budget = D.
    t = process.hrtime.bigint();
    const localBytesBefore = await outputBytes(localServerClient);
    const { value: repairOutcome, bytes: peerBytes } = await measureOutput(peerServerClient, () =>
      repairWithPeer({ store: local, peer, peerId: 'paris', maxItems: DIVERGENT }));
    const localBytes = (await outputBytes(localServerClient)) - localBytesBefore;
    const repairSec = seconds(t);
    const repair = done(repairOutcome);
    const [rootL, rootP] = await Promise.all([local.merkleRoot(), peerStore.merkleRoot()]);
    if (rootL !== rootP) throw new Error('not converged after one repair');
    if (repair.result !== 'repaired') throw new Error(`expected repaired, got ${repair.result}`);

    // In-sync check: roots only.
    const inSync: number[] = [];
    let inSyncTrips = 0;
    for (let r = 0; r < IN_SYNC_RUNS; r++) {
      const s = process.hrtime.bigint();
      const o = done(await repairWithPeer({ store: local, peer, peerId: 'paris', maxItems: DIVERGENT }));
      inSync.push(seconds(s) * 1000);
      if (o.result !== 'in_sync') throw new Error('expected in_sync');
      inSyncTrips = o.report.roundTrips;
    }
    const { bytes: inSyncBytes } = await measureOutput(peerServerClient, () => repairWithPeer({ store: local, peer, peerId: 'paris', maxItems: DIVERGENT }));

    const r = repair.report;
    const figures: Figure[] = [
      { name: `load ${KEYS.toLocaleString('en-US')} keys into each store (applyChanges, batches of ${LOAD_BATCH})`, value: (2 * KEYS) / loadSec, unit: 'changes/s' },
      { name: `compare only (full report, ${view.keys.length} divergent keys)`, value: compareSec * 1000, unit: 'ms', note: `${view.roundTrips} round trips` },
      {
        name: `repairWithPeer, ${DIVERGENT.toLocaleString('en-US')} divergent keys → converged`,
        value: repairSec * 1000,
        unit: 'ms',
        note: `${r.roundTrips} drill-down round trips + ${Math.ceil(repair.fetched / 500)} fetch/apply rounds; ${r.divergentBranches} divergent branches, ` +
          `${r.divergentBuckets} buckets; fetched ${repair.fetched}, applied ${repair.applied}`,
      },
      { name: 'bytes sent by the peer Redis during the repair', value: peerBytes, unit: 'bytes', note: `${fmt(peerBytes / DIVERGENT)} per divergent key` },
      { name: 'bytes sent by the local Redis during the repair', value: localBytes, unit: 'bytes' },
      { ...summarize('in-sync check (repairWithPeer, roots equal)', 'ms', inSync), note: `${inSyncTrips} round trip, peer sent ${inSyncBytes} bytes` },
    ];
    printFigures(`Cold path (bench:cold, ${KEYS.toLocaleString('en-US')} keys)`, figures);
    console.log('machine:', JSON.stringify(machine()));
    await Promise.all([local.close(), peerStore.close()]);
  } finally {
    peerReadClient.disconnect();
    for (const c of clients) c.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

await main();
