// A mesh of in-process engines for integration tests: each node has its own real redis-server, its own
// RedisStore, a SQLite cursor file in a temp dir and a ReplicationEngine tailing the other nodes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/parse.js';
import type { ReplicationConfig } from '../../src/config/types.js';
import { ReplicationEngine, type EngineDeps } from '../../src/engine/replication-engine.js';
import { RedisStore, type RedisStoreOptions } from '../../src/store/redis-store.js';
import { startRedis, type RedisServer, type RedisServerOptions } from './redis-server.js';

export interface MeshNode {
  readonly id: string;
  readonly prefix: string;
  readonly server: RedisServer;
  store: RedisStore;
  engine: ReplicationEngine;
  readonly cursorPath: string;
  /** The settings this node was built with; pass a changed copy to `engine.updateConfig`. */
  config: ReplicationConfig;
}

export interface MeshOptions {
  nodes: number;
  /** Merged into `settings` of every node (e.g. { cold_path: { enabled: false } }). */
  settings?: Record<string, unknown>;
  store?: Record<string, unknown>;
  redis?: RedisServerOptions;
  storeOptions?: Partial<RedisStoreOptions>;
  /** Full mesh by default; return false to leave `to` out of `from`'s peers. */
  link?: (from: number, to: number) => boolean;
  /** Per-peer URL override (e.g. through a fault proxy). */
  peerUrl?: (from: number, to: number, server: RedisServer) => string;
  engineDeps?: Partial<EngineDeps>;
  /** Start the engines (default true). */
  start?: boolean;
}

/** Test defaults: short blocking reads so stops are quick, periodic cold path off. */
export const TEST_SETTINGS = {
  hot_path: { block_timeout: '200ms' },
  cold_path: { enabled: false },
};

export class Mesh {
  readonly nodes: MeshNode[] = [];
  private readonly tmp = mkdtempSync(path.join(os.tmpdir(), 're-mesh-'));

  static async start(options: MeshOptions): Promise<Mesh> {
    const mesh = new Mesh();
    try {
      const servers = await Promise.all(Array.from({ length: options.nodes }, () => startRedis(options.redis ?? {})));
      for (let i = 0; i < options.nodes; i++) {
        const id = `node-${i}`;
        const prefix = `n${i}:`;
        const config = mesh.configFor(i, servers, options);
        const store = await RedisStore.connect({
          url: servers[i]!.url, prefix, nodeId: id, cdcMaxlen: config.store.cdc_maxlen, ...options.storeOptions,
        });
        const engine = new ReplicationEngine(config, { store, ...options.engineDeps });
        mesh.nodes.push({ id, prefix, server: servers[i]!, store, engine, cursorPath: config.cursor.sqlite_path, config });
      }
      if (options.start !== false) await Promise.all(mesh.nodes.map((n) => n.engine.start()));
    } catch (err) {
      await mesh.stop();
      throw err;
    }
    return mesh;
  }

  configFor(i: number, servers: readonly RedisServer[], options: MeshOptions): ReplicationConfig {
    const peers = [];
    for (let j = 0; j < servers.length; j++) {
      if (j === i || (options.link && !options.link(i, j))) continue;
      peers.push({
        node_id: `node-${j}`,
        redis_url: options.peerUrl ? options.peerUrl(i, j, servers[j]!) : servers[j]!.url,
        redis_prefix: `n${j}:`,
        circuit_failure_threshold: 2,
        circuit_reset_timeout_sec: 0.2,
      });
    }
    return parseConfig({
      local_node_id: `node-${i}`,
      local: { redis_url: servers[i]!.url, redis_prefix: `n${i}:` },
      settings: mergeSettings(TEST_SETTINGS, options.settings ?? {}),
      store: options.store ?? {},
      peers,
      cursor: { sqlite_path: path.join(this.tmp, `cursors-${i}.db`) },
    });
  }

  node(i: number): MeshNode {
    const n = this.nodes[i];
    if (!n) throw new Error(`no node ${i}`);
    return n;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.engine.shutdown()));
    await Promise.allSettled(this.nodes.map((n) => n.store.close()));
    await Promise.allSettled(this.nodes.map((n) => n.server.stop()));
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

function mergeSettings(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? { ...b, ...v } : v;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A counter's value (summed over label sets matching `labels`) from an engine's registry. */
export async function metricValue(engine: ReplicationEngine, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = engine.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) {
    const l = v.labels as Record<string, string | number | undefined>;
    if (Object.entries(labels).every(([k, want]) => String(l[k]) === want)) sum += v.value;
  }
  return sum;
}

/** Id of the newest entry ever added to a node's CDC stream ("0-0" when it has none). */
export async function streamHead(node: MeshNode): Promise<string> {
  const exists = await node.store.client.exists(`${node.prefix}cdc`);
  if (!exists) return '0-0';
  const info = (await node.store.client.xinfo('STREAM', `${node.prefix}cdc`)) as unknown[];
  return String(info[info.indexOf('last-generated-id') + 1]);
}
