// Engine features that nothing else exercises end to end: the drain of the batch in flight at
// shutdown, health pings of idle peers and the circuit they open, hot_path.enabled false, the
// cold path's parallel drill-down, and peer priority. Each test fails when its feature is removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerConfig, ReplicationConfig } from '../../../src/config/types.js';
import { SqliteCursorStore } from '../../../src/cursor/sqlite-cursor-store.js';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { RedisPeerConnection } from '../../../src/peer/redis-peer-connection.js';
import type { RedisStore } from '../../../src/store/redis-store.js';
import type { StoreReader } from '../../../src/store/local-store.js';
import { Mesh, metricValue, streamHead } from '../../support/mesh.js';
import { waitFor } from '../../support/wait.js';
import { useProxiedPair } from '../../support/use-mesh.js';
import { useMesh } from '../../support/use-mesh.js';

function realConnection(peer: PeerConfig): RedisPeerConnection {
  return new RedisPeerConnection({ peerId: peer.node_id, prefix: peer.redis_prefix, endpoint: { redis_url: peer.redis_url } });
}

/** `target` with some of its members replaced; everything else forwarded, bound to it. */
function override<T extends object>(target: T, members: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (Object.prototype.hasOwnProperty.call(members, prop)) return (members as Record<PropertyKey, unknown>)[prop];
      const value: unknown = Reflect.get(t, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

function withSettings(config: ReplicationConfig, section: 'hot_path' | 'cold_path', values: Record<string, unknown>): ReplicationConfig {
  return { ...config, settings: { ...config.settings, [section]: { ...config.settings[section], ...values } } };
}

const latencySamples = async (engine: ReplicationEngine, peerId: string): Promise<number> => {
  const metric = engine.metrics.registry.getSingleMetric('replication_peer_latency_seconds');
  const { values } = (await metric!.get()) as { values: { value: number; labels: Record<string, unknown>; metricName?: string }[] };
  return values.filter((v) => v.metricName?.endsWith('_count') && v.labels.peer_id === peerId).reduce((s, v) => s + v.value, 0);
};

describe('shutdown drains the batch in flight', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    // Long blocking reads: the read after the held batch is still pending when shutdown starts.
    mesh = await Mesh.start({ nodes: 2, start: false, settings: { hot_path: { block_timeout: '5s' } } });
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('waits for the apply still running, saves its cursor, and only then closes the connections', async () => {
    for (let k = 0; k < 10; k++) await mesh.node(0).store.put(`d/${k}`, Buffer.from('x'));
    const lastId = await streamHead(mesh.node(0));
    const node1 = mesh.node(1);
    const events: string[] = [];
    let releaseApply!: () => void;
    const held = new Promise<void>((resolve) => (releaseApply = resolve));
    let applyHeld = false;
    let stopping = false;
    let pendingReads = 0;

    // The store holds the first apply until the test lets it go.
    const store = override<RedisStore>(node1.store, {
      applyChanges: async (changes: Parameters<RedisStore['applyChanges']>[0]) => {
        applyHeld = true;
        await held;
        const outcomes = await node1.store.applyChanges(changes);
        events.push('applied');
        return outcomes;
      },
    });
    // Once shutdown has interrupted the pending read, release the apply a turn of the event loop later:
    // without the drain, the engine has closed everything by then.
    const connectPeer = (peer: PeerConfig): PeerConnection => {
      const real = realConnection(peer);
      return override<PeerConnection>(real, {
        read: (cursor: string, count: number, blockMs: number) => {
          pendingReads++;
          const result = real.read(cursor, count, blockMs);
          result.catch(() => undefined).finally(() => {
            pendingReads--;
            if (stopping) setImmediate(releaseApply);
          });
          return result;
        },
        close: () => {
          events.push('closed');
          return real.close();
        },
      });
    };
    const engine = new ReplicationEngine(node1.config, { store, connectPeer });
    node1.engine = engine;
    await engine.start();
    await waitFor(() => applyHeld && pendingReads > 0, { what: 'the first apply held and the next read pending' });

    stopping = true;
    await engine.shutdown();
    expect(events).toEqual(['applied', 'closed']);
    const cursors = SqliteCursorStore.open({ path: node1.cursorPath, walMode: true });
    try {
      expect(cursors.get('node-0')).toBe(lastId);
    } finally {
      cursors.close();
    }
  });
});

describe('health pings of an idle peer', () => {
  // No hot path: pings are the only calls to the peer.
  const pair = useProxiedPair({ settings: { hot_path: { enabled: false }, peer_health: { enabled: true, idle_threshold_sec: 0.1, ping_interval_sec: 0.1 } } });

  it('pings it, opens its circuit when pings fail, and closes it when they succeed again', async () => {
    const proxy = pair.proxy();
    const engine = pair.mesh().node(1).engine;
    const circuit = (): string => engine.status().peers[0]!.circuit;
    await waitFor(async () => (await latencySamples(engine, 'node-0')) >= 2, { what: 'two pings answered' });
    expect(circuit()).toBe('closed');

    proxy.setMode('refuse');
    proxy.cutConnections();
    await waitFor(() => circuit() === 'open', { what: 'circuit opened by failed pings' });
    expect(await metricValue(engine, 'replication_peer_errors_total', { peer_id: 'node-0' })).toBeGreaterThanOrEqual(2);

    proxy.setMode('pass');
    await waitFor(() => circuit() === 'closed', { what: 'circuit closed by a ping that succeeded', timeoutMs: 20_000 });
  });
});

describe('hot_path.enabled: false', () => {
  let mesh: Mesh;
  const reads: string[] = [];
  beforeAll(async () => {
    mesh = await Mesh.start({
      nodes: 2,
      start: false,
      link: (from) => from === 1,
      settings: { hot_path: { enabled: false }, peer_health: { enabled: true, idle_threshold_sec: 0.1, ping_interval_sec: 0.1 } },
      engineDeps: {
        connectPeer: (peer) => {
          const real = realConnection(peer);
          return override<PeerConnection>(real, {
            read: (cursor: string, count: number, blockMs: number) => {
              reads.push(cursor);
              return real.read(cursor, count, blockMs);
            },
          });
        },
      },
    });
    await mesh.node(1).engine.start();
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('never reads the stream, leaves the cold path to repair, and starts tailing when switched on live', async () => {
    const node1 = mesh.node(1);
    await mesh.node(0).store.put('k', Buffer.from('v'));
    // The engine has been talking to the peer for a while (pings), and not once on the stream.
    await waitFor(async () => (await latencySamples(node1.engine, 'node-0')) >= 2, { what: 'pings of the idle peer' });
    expect(reads).toEqual([]);
    expect(node1.engine.status().peers[0]).toMatchObject({ cursor: '0-0', catching_up: false });
    expect(await node1.store.get('k')).toBeNull();
    const [repair] = await node1.engine.repairNow('node-0');
    expect(repair?.result).toBe('repaired');
    expect((await node1.store.get('k'))?.content.toString()).toBe('v');

    await node1.engine.updateConfig(withSettings(node1.config, 'hot_path', { enabled: true }));
    const head = await streamHead(mesh.node(0));
    await waitFor(() => node1.engine.status().peers[0]!.cursor === head, { what: 'the hot path at the stream head' });
    expect(reads.length).toBeGreaterThan(0);
  });
});

describe('cold path: parallel drill-down through the engine', () => {
  let mesh: Mesh;
  const calls: number[] = [];
  beforeAll(async () => {
    mesh = await Mesh.start({
      nodes: 2,
      start: false,
      link: (from) => from === 1,
      settings: { hot_path: { enabled: false } },
      engineDeps: {
        connectPeer: (peer) => {
          const real = realConnection(peer);
          const reader = override<StoreReader>(real.reader, {
            bucketDigests: (branches: readonly string[]) => {
              calls.push(branches.length);
              return real.reader.bucketDigests(branches);
            },
          });
          return override<PeerConnection>(real, { reader });
        },
      },
    });
    await mesh.node(1).engine.start();
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('reads the bucket digests of up to 8 divergent branches in one call', async () => {
    const store = mesh.node(0).store;
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.put(`spread/${i}`, Buffer.from(`v${i}`))));
    await waitFor(() => mesh.node(1).engine.status().peers[0]!.connected, { what: 'node-1 connected to node-0' });
    const [repair] = await mesh.node(1).engine.repairNow('node-0');
    expect(repair?.result).toBe('repaired');
    const branches = repair?.result !== 'skipped' ? repair?.outcome?.report?.divergentBranches ?? 0 : 0;
    expect(branches).toBeGreaterThan(16); // 200 keys over 256 branches
    expect(Math.max(...calls)).toBe(8);
    expect(calls).toHaveLength(Math.ceil(branches / 8));
    expect(await mesh.node(1).store.merkleRoot()).toBe(await store.merkleRoot());
  });
});

describe('peer priority', () => {
  const mesh = useMesh({ nodes: 3, link: (from) => from === 0 });

  const withPriorities = (config: ReplicationConfig, priorities: Record<string, number>): ReplicationConfig => ({
    ...config,
    peers: config.peers.map((p) => ({ ...p, priority: priorities[p.node_id] ?? p.priority })),
  });

  it('orders a cold-path cycle, lower first, and follows a live change', async () => {
    const node0 = mesh().node(0);
    // Priority against the peer id order: only the configured priority can put node-2 first.
    await node0.engine.updateConfig(withPriorities(node0.config, { 'node-1': 5, 'node-2': 1 }));
    expect((await node0.engine.repairNow()).map((o) => o.peerId)).toEqual(['node-2', 'node-1']);

    await node0.engine.updateConfig(withPriorities(node0.config, { 'node-1': 1, 'node-2': 5 }));
    expect((await node0.engine.repairNow()).map((o) => o.peerId)).toEqual(['node-1', 'node-2']);
  });
});
