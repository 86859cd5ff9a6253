// The engine's life cycle and live reconfiguration against real redis-servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplicationConfig } from '../../../src/config/types.js';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import { Mesh, metricValue } from '../../support/mesh.js';
import { waitFor } from '../../support/wait.js';
import { useMesh } from '../../support/use-mesh.js';

/** Clients on a node's Redis whose name says they are a peer's stream or query connection. */
async function peerClients(mesh: Mesh, i: number): Promise<number> {
  const list = await mesh.node(i).store.client.client('LIST');
  return String(list).split('\n').filter((line) => /name=re-(stream|query):node-/.test(line)).length;
}

describe('engine: updateConfig while running', () => {
  let mesh: Mesh;
  let base: ReplicationConfig;
  beforeAll(async () => {
    // Only node-0 replicates, and at first only from node-1.
    mesh = await Mesh.start({ nodes: 3, link: (from, to) => from === 0 && to === 1 });
    base = mesh.node(0).config;
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('adds a peer live: its writes start arriving', async () => {
    const all = mesh.configFor(0, mesh.nodes.map((n) => n.server), { nodes: 3 });
    await mesh.node(0).engine.updateConfig(all);
    expect(mesh.node(0).engine.status().peers.map((p) => p.peer_id).sort()).toEqual(['node-1', 'node-2']);
    const w = await mesh.node(2).store.put('from-2', Buffer.from('hello'));
    const rec = await waitFor(() => mesh.node(0).store.get('from-2'), { what: 'from-2 on node-0' });
    expect(rec.hlc).toBe(w.hlc);
  });

  it('removes a peer live: its connections close and its metrics go away', async () => {
    await waitFor(async () => (await peerClients(mesh, 1)) === 2, { what: 'node-0 connected to node-1' });
    const onlyTwo = mesh.configFor(0, mesh.nodes.map((n) => n.server), { nodes: 3, link: (from, to) => from === 0 && to === 2 });
    await mesh.node(0).engine.updateConfig(onlyTwo);
    expect(mesh.node(0).engine.status().peers.map((p) => p.peer_id)).toEqual(['node-2']);
    await waitFor(async () => (await peerClients(mesh, 1)) === 0, { what: 'connections to node-1 closed' });
    const text = await mesh.node(0).engine.metrics.text();
    expect(text).not.toMatch(/peer_id="node-1"/);
    expect(text).toMatch(/peer_id="node-2"/);
  });

  it('applies changed settings to running peers', async () => {
    const current = mesh.node(0).engine.configuration;
    const next: ReplicationConfig = {
      ...current,
      settings: { ...current.settings, hot_path: { ...current.settings.hot_path, batch_size: 7 } },
    };
    await mesh.node(0).engine.updateConfig(next);
    expect(mesh.node(0).engine.status().peers[0]!.batch_size).toBe(7);
  });

  it('refuses a change that needs a restart and keeps running as before', async () => {
    const before = mesh.node(0).engine.configuration;
    await expect(mesh.node(0).engine.updateConfig({ ...base, local_node_id: 'someone-else' })).rejects.toMatchObject({
      code: 'restart_required',
      message: expect.stringContaining('local_node_id') as unknown,
    });
    expect(mesh.node(0).engine.configuration).toBe(before);
    expect(mesh.node(0).engine.state).toBe('running');
  });
});

describe('engine: life cycle', () => {
  const mesh = useMesh({ nodes: 2, start: false });

  it('goes stopped → running → stopped, reported by the state gauge', async () => {
    const engine = mesh().node(0).engine;
    expect(engine.state).toBe('stopped');
    expect(await metricValue(engine, 'replication_engine_state')).toBe(0);
    await engine.start();
    expect(engine.state).toBe('running');
    expect(await metricValue(engine, 'replication_engine_state')).toBe(2);
    await expect(engine.start()).rejects.toMatchObject({ code: 'invalid_state' });
    await engine.shutdown();
    expect(engine.state).toBe('stopped');
    expect(await metricValue(engine, 'replication_engine_state')).toBe(0);
  });

  it('starts without waiting for an unreachable peer, and reports it disconnected', async () => {
    const config = mesh().node(0).config;
    const unreachable: ReplicationConfig = {
      ...config,
      peers: [{ ...config.peers[0]!, node_id: 'far-away', redis_url: 'redis://127.0.0.1:1', redis_prefix: 'x:' }],
    };
    const engine = new ReplicationEngine(unreachable, { store: mesh().node(0).store });
    await engine.start();
    expect(engine.state).toBe('running');
    expect(engine.status().peers[0]).toMatchObject({ peer_id: 'far-away', connected: false });
    await engine.shutdown();
  });

  it('refuses a store that belongs to another node', () => {
    expect(() => new ReplicationEngine({ ...mesh().node(0).config, local_node_id: 'other' }, { store: mesh().node(0).store }))
      .toThrow(expect.objectContaining({ code: 'node_id_mismatch' }) as Error);
  });
});
