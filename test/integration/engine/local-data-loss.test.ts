// A node whose Redis loses data (comes back empty, is flushed, is restored from an older snapshot) is
// refilled from its peers by its own cold path, at once: periodic repair is off here, so only the
// detected data loss (and the peers' gap) can trigger it.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import { Mesh, metricValue } from '../../support/mesh.js';
import { waitFor } from '../../support/wait.js';
import { startFaultProxy, type FaultProxy } from '../../../src/demo/fault-proxy.js';
import { useMesh } from '../../support/use-mesh.js';

describe('a peer restarted with an empty Redis', () => {
  const mesh = useMesh({ nodes: 3, settings: { cold_path: { enabled: false, max_items_per_cycle: 40 } } });

  it('is refilled completely through its own cold path, and its peers count the gap', async () => {
    // 150 keys written on every node (more than the budget of 40 per repair cycle).
    for (let k = 0; k < 150; k++) await mesh().node(k % 3).store.put(`record/${k}`, Buffer.from(`v${k}`));
    await mesh().node(1).store.delete('record/0');
    await waitFor(async () => new Set(await Promise.all(mesh().nodes.map((n) => n.store.merkleRoot()))).size === 1, {
      what: 'the mesh() in sync before the loss',
    });
    const root = await mesh().node(0).store.merkleRoot();

    await mesh().node(2).server.restart({ keepData: false });
    await waitFor(async () => (await metricValue(mesh().node(2).engine, 'replication_local_data_loss_total')) === 1, {
      what: 'node-2 noticing it lost its data',
    });
    await waitFor(async () => (await mesh().node(2).store.merkleRoot()) === root, { what: 'node-2 refilled to the mesh() root', timeoutMs: 20_000 });
    expect(await mesh().node(2).store.keyCount()).toBe(149);
    expect(await mesh().node(2).store.get('record/0')).toBeNull();
    expect((await mesh().node(2).store.get('record/77'))?.content.toString()).toBe('v77');
    // Its peers saw its stream go back in time.
    for (const i of [0, 1]) {
      await waitFor(async () => (await metricValue(mesh().node(i).engine, 'replication_stream_gaps_total', { peer_id: 'node-2', kind: 'peer_behind' })) >= 1, {
        what: `node-${i} counting node-2's stream as behind`,
        // Its link to node-2 reconnects on its backoff (up to DEFAULTS.peerReconnectMaxMs) before it can look.
        timeoutMs: 20_000,
      });
    }
    // And new writes flow both ways again.
    const w = await mesh().node(2).store.put('after-loss', Buffer.from('new'));
    const rec = await waitFor(() => mesh().node(0).store.get('after-loss'), { what: 'after-loss on node-0' });
    expect(rec.hlc).toBe(w.hlc);
  });
});

/** Every node's Merkle root is the same. */
async function inSync(mesh: Mesh): Promise<boolean> {
  return new Set(await Promise.all(mesh.nodes.map((n) => n.store.merkleRoot()))).size === 1;
}

describe('a node whose Redis is flushed while the engine runs', () => {
  const mesh = useMesh({ nodes: 3, settings: { cold_path: { enabled: false, max_items_per_cycle: 40 } } });

  it('is refilled from its peers without a restart', async () => {
    for (let k = 0; k < 150; k++) await mesh().node(k % 3).store.put(`flushed/${k}`, Buffer.from(`v${k}`));
    await mesh().node(0).store.delete('flushed/3');
    await waitFor(() => inSync(mesh()), { what: 'the mesh() in sync before the flush' });
    const root = await mesh().node(0).store.merkleRoot();

    await mesh().node(2).store.client.flushall();
    await waitFor(async () => (await metricValue(mesh().node(2).engine, 'replication_local_data_loss_total')) === 1, {
      what: 'node-2 noticing the flush',
    });
    await waitFor(async () => (await mesh().node(2).store.merkleRoot()) === root, { what: 'node-2 refilled to the mesh() root', timeoutMs: 20_000 });
    expect(await mesh().node(2).store.keyCount()).toBe(149);
    expect(await mesh().node(2).store.get('flushed/3')).toBeNull();
    expect((await mesh().node(2).store.get('flushed/2'))?.content.toString()).toBe('v2');
    expect(mesh().node(2).engine.state).toBe('running');

    const w = await mesh().node(2).store.put('after-flush', Buffer.from('new'));
    for (const i of [0, 1]) {
      const rec = await waitFor(() => mesh().node(i).store.get('after-flush'), { what: `after-flush on node-${i}` });
      expect(rec.hlc).toBe(w.hlc);
    }
    const back = await mesh().node(0).store.put('towards-flushed', Buffer.from('x'));
    const rec = await waitFor(() => mesh().node(2).store.get('towards-flushed'), { what: 'towards-flushed on node-2' });
    expect(rec.hlc).toBe(back.hlc);
  });
});

for (const persistence of [false, true]) {
  describe(`a node whose Redis is restarted from an older ${persistence ? 'AOF' : 'RDB'} snapshot`, () => {
    let mesh: Mesh;
    beforeAll(async () => {
      mesh = await Mesh.start({ nodes: 3, redis: { persistence }, settings: { cold_path: { enabled: false, max_items_per_cycle: 40 } } });
    });
    afterAll(async () => {
      await mesh?.stop();
    });

    it('notices its data went back in time and gets back every write a peer holds', async () => {
      for (let k = 0; k < 60; k++) await mesh.node(k % 3).store.put(`old/${k}`, Buffer.from(`v${k}`));
      await waitFor(() => inSync(mesh), { what: 'the mesh in sync before the snapshot' });
      const node2 = mesh.node(2);
      const snapshot = await node2.server.snapshot();
      const epochAtSnapshot = Number(await node2.store.client.hget(node2.store.keys.meta, 'epoch'));

      // After the snapshot: node-2's own acknowledged writes (which reach its peers), writes it
      // receives, an overwrite and a delete; all lost by the restore, all held by a peer.
      const own: Record<string, string> = {};
      for (let k = 0; k < 30; k++) own[`mine/${k}`] = (await node2.store.put(`mine/${k}`, Buffer.from(`m${k}`))).hlc;
      for (let k = 0; k < 60; k++) await mesh.node(k % 2).store.put(`new/${k}`, Buffer.from(`n${k}`));
      await mesh.node(0).store.put('old/1', Buffer.from('overwritten'));
      await mesh.node(1).store.delete('old/2');
      await waitFor(() => inSync(mesh), { what: 'the mesh in sync before the restore' });
      const root = await mesh.node(0).store.merkleRoot();
      // The engine has checked the store since the snapshot, so the restored epoch is behind.
      await waitFor(async () => Number(await node2.store.client.hget(node2.store.keys.meta, 'epoch')) > epochAtSnapshot + 1, {
        what: 'a data check on node-2 after the snapshot',
      });

      await node2.server.restart({ fromSnapshot: snapshot });
      await waitFor(async () => (await metricValue(node2.engine, 'replication_local_data_loss_total')) === 1, {
        what: 'node-2 noticing its data went back',
      });
      await waitFor(async () => (await node2.store.merkleRoot()) === root, { what: 'node-2 repaired to the mesh root', timeoutMs: 20_000 });
      for (const [key, hlc] of Object.entries(own)) expect((await node2.store.get(key))?.hlc).toBe(hlc);
      expect((await node2.store.get('old/1'))?.content.toString()).toBe('overwritten');
      expect(await node2.store.get('old/2')).toBeNull();
      expect(await node2.store.keyCount()).toBe(60 - 1 + 30 + 60);

      // New writes flow both ways again: the peers' cursors on node-2's stream were ahead of it.
      const w = await node2.store.put('after-restore', Buffer.from('new'));
      for (const i of [0, 1]) {
        const rec = await waitFor(() => mesh.node(i).store.get('after-restore'), { what: `after-restore on node-${i}` });
        expect(rec.hlc).toBe(w.hlc);
      }
      const back = await mesh.node(1).store.put('towards-restored', Buffer.from('x'));
      const rec = await waitFor(() => node2.store.get('towards-restored'), { what: 'towards-restored on node-2' });
      expect(rec.hlc).toBe(back.hlc);
    });
  });
}

describe('a node restarted together with its Redis, which comes back from an older snapshot', () => {
  const mesh = useMesh({ nodes: 2, settings: { cold_path: { enabled: false, max_items_per_cycle: 40 } } });

  it('notices at start, from what its cursor file says it last saw, and repairs', async () => {
    const node = mesh().node(1);
    for (let k = 0; k < 20; k++) await mesh().node(k % 2).store.put(`early/${k}`, Buffer.from(`e${k}`));
    await waitFor(() => inSync(mesh()), { what: 'the pair in sync before the snapshot' });
    const snapshot = await node.server.snapshot();
    const epochAtSnapshot = Number(await node.store.client.hget(node.store.keys.meta, 'epoch'));
    const own: Record<string, string> = {};
    for (let k = 0; k < 20; k++) own[`late/${k}`] = (await node.store.put(`late/${k}`, Buffer.from(`l${k}`))).hlc;
    for (let k = 0; k < 20; k++) await mesh().node(0).store.put(`peer-late/${k}`, Buffer.from(`p${k}`));
    await waitFor(() => inSync(mesh()), { what: 'the pair in sync before the stop' });
    const root = await mesh().node(0).store.merkleRoot();
    await waitFor(async () => Number(await node.store.client.hget(node.store.keys.meta, 'epoch')) > epochAtSnapshot + 1, {
      what: 'a data check on node-1 after the snapshot',
    });

    await node.engine.shutdown();
    await node.server.restart({ fromSnapshot: snapshot });
    node.engine = new ReplicationEngine(node.config, { store: node.store });
    await node.engine.start();
    expect(await metricValue(node.engine, 'replication_local_data_loss_total')).toBe(1);
    await waitFor(async () => (await node.store.merkleRoot()) === root, { what: 'node-1 repaired to the peer root', timeoutMs: 20_000 });
    for (const [key, hlc] of Object.entries(own)) expect((await node.store.get(key))?.hlc).toBe(hlc);
  });
});

describe('a node whose wall clock is behind the stamps it had issued when its Redis is flushed', () => {
  let mesh: Mesh;
  let proxy: FaultProxy;
  let offsetMs = 0;
  beforeAll(async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: 1 });
    mesh = await Mesh.start({
      nodes: 2,
      storeOptions: { now: () => Date.now() + offsetMs },
      // node-1 reaches node-0 through the proxy, so the test can hold its repair back.
      peerUrl: (from, _to, server) => {
        if (from !== 1) return server.url;
        proxy.setTarget('127.0.0.1', server.port);
        return proxy.url();
      },
    });
  });
  afterAll(async () => {
    await mesh?.stop();
    await proxy?.close();
  });

  it('stamps a write made after the loss above what it had issued before, so the write is not lost', async () => {
    const before = await mesh.node(1).store.put('k', Buffer.from('first'));
    await waitFor(async () => (await mesh.node(0).store.get('k'))?.hlc === before.hlc, { what: 'k on node-0' });
    // node-1 cannot reach node-0 (no repair yet) and its clock is now 30 s behind.
    proxy.setMode('refuse');
    proxy.cutConnections();
    offsetMs = -30_000;
    await mesh.node(1).store.client.flushall();
    await waitFor(async () => (await metricValue(mesh.node(1).engine, 'replication_local_data_loss_total')) === 1, {
      what: 'node-1 noticing the flush',
    });

    const after = await mesh.node(1).store.put('k', Buffer.from('second'));
    expect(after.hlc > before.hlc).toBe(true);
    proxy.setMode('pass');
    await waitFor(async () => (await mesh.node(0).store.get('k'))?.hlc === after.hlc, { what: 'the later write on node-0' });
    await waitFor(() => inSync(mesh), { what: 'the pair in sync' });
    expect((await mesh.node(1).store.get('k'))?.content.toString()).toBe('second');
  });
});

describe('a node whose cursor file is deleted while it runs', () => {
  const mesh = useMesh({ nodes: 2 });

  it('reports it in status (so /ready fails) and keeps replicating', async () => {
    await mesh().node(1).store.put('before', Buffer.from('x'));
    await waitFor(() => mesh().node(0).store.get('before'), { what: 'before on node-0' });
    expect(mesh().node(0).engine.status().cursor_error).toBeNull();
    for (const suffix of ['', '-wal', '-shm']) rmSync(mesh().node(0).cursorPath + suffix, { force: true });

    // Writes keep coming until a cursor save notices (the file is checked at most once a second).
    let n = 0;
    await waitFor(async () => {
      await mesh().node(1).store.put(`after/${n++}`, Buffer.from('y'));
      return mesh().node(0).engine.status().cursor_error?.includes('was deleted');
    }, { what: 'node-0 reporting its cursor file gone', intervalMs: 100 });
    expect(await metricValue(mesh().node(0).engine, 'replication_cursor_errors_total')).toBeGreaterThan(0);
    await waitFor(() => mesh().node(0).store.get(`after/${n - 1}`), { what: 'replication going on' });
  });
});
