// A node whose Redis comes back empty is refilled from its peers by its own cold path, at once:
// periodic repair is off here, so only the detected data loss (and the peers' gap) can trigger it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mesh, metricValue } from '../support/mesh.js';
import { waitFor } from '../support/wait.js';

describe('a peer restarted with an empty Redis', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await Mesh.start({ nodes: 3, settings: { cold_path: { enabled: false, max_items_per_cycle: 40 } } });
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('is refilled completely through its own cold path, and its peers count the gap', async () => {
    // 150 keys written on every node (more than the budget of 40 per repair cycle).
    for (let k = 0; k < 150; k++) await mesh.node(k % 3).store.put(`record/${k}`, Buffer.from(`v${k}`));
    await mesh.node(1).store.delete('record/0');
    await waitFor(async () => new Set(await Promise.all(mesh.nodes.map((n) => n.store.merkleRoot()))).size === 1, {
      what: 'the mesh in sync before the loss',
    });
    const root = await mesh.node(0).store.merkleRoot();

    await mesh.node(2).server.restart({ keepData: false });
    await waitFor(async () => (await metricValue(mesh.node(2).engine, 'replication_local_data_loss_total')) === 1, {
      what: 'node-2 noticing it lost its data',
    });
    await waitFor(async () => (await mesh.node(2).store.merkleRoot()) === root, { what: 'node-2 refilled to the mesh root', timeoutMs: 20_000 });
    expect(await mesh.node(2).store.keyCount()).toBe(149);
    expect(await mesh.node(2).store.get('record/0')).toBeNull();
    expect((await mesh.node(2).store.get('record/77'))?.content.toString()).toBe('v77');
    // Its peers saw its stream go back in time.
    for (const i of [0, 1]) {
      await waitFor(async () => (await metricValue(mesh.node(i).engine, 'replication_stream_gaps_total', { peer_id: 'node-2', kind: 'peer_behind' })) >= 1, {
        what: `node-${i} counting node-2's stream as behind`,
      });
    }
    // And new writes flow both ways again.
    const w = await mesh.node(2).store.put('after-loss', Buffer.from('new'));
    const rec = await waitFor(() => mesh.node(0).store.get('after-loss'), { what: 'after-loss on node-0' });
    expect(rec.hlc).toBe(w.hlc);
  });
});
