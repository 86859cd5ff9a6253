/**
 * Time from a FLUSHALL on a running node's Redis to the node holding everything again: a pair of
 * nodes, N records written on the peer and replicated, then the node's Redis flushed. Measured from
 * the FLUSHALL to the node's Merkle root equal to the peer's; default settings except the periodic
 * cold path (off, so only the detected loss repairs).
 *
 *   npx tsx bench/refill-after-flush.ts [--records 10000] [--runs 3]
 */
import { parseArgs } from 'node:util';
import { Mesh, metricValue } from '../test/support/mesh.js';
import { waitFor } from '../test/support/wait.js';
import { median } from './support.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } });
const records = Number(values.records);
const runs = Number(values.runs);

const samples: number[] = [];
for (let run = 1; run <= runs; run++) {
  const mesh = await Mesh.start({ nodes: 2 });
  try {
    const [node, peer] = [mesh.node(0), mesh.node(1)];
    const payload = Buffer.alloc(200, 'x');
    for (let start = 0; start < records; start += 500) {
      await Promise.all(Array.from({ length: Math.min(500, records - start) }, (_, i) => peer.store.put(`rec/${start + i}`, payload)));
    }
    const root = await peer.store.merkleRoot();
    await waitFor(async () => (await node.store.merkleRoot()) === root, { what: 'replicated', timeoutMs: 120_000 });
    const t0 = performance.now();
    await node.store.client.flushall();
    await waitFor(async () => (await node.store.merkleRoot()) === root, { what: 'refilled', timeoutMs: 300_000, intervalMs: 20 });
    const ms = performance.now() - t0;
    if ((await node.store.keyCount()) !== records) throw new Error('refill incomplete');
    samples.push(ms);
    console.log(`run ${run}: ${records} records refilled ${Math.round(ms)} ms after FLUSHALL (data-loss events ${await metricValue(node.engine, 'replication_local_data_loss_total')})`);
  } finally {
    await mesh.stop();
  }
}
console.log(`median ${Math.round(median(samples))} ms (min ${Math.round(Math.min(...samples))}, max ${Math.round(Math.max(...samples))}) over ${runs} runs`);
