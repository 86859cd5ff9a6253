/**
 * The demo's three node configurations, built as a user would write them (the object under
 * `replication:`) and validated by the same `parseConfig` as a YAML file — so the demo runs
 * the product's real configuration path, and `--keep` leaves files a user can read.
 *
 * Settings are turned down from production defaults so that a cut and a heal play out in
 * seconds: short blocking reads, a 2 s cold-path interval, circuits that retry after 1 s.
 */
import path from 'node:path';
import { parseConfig } from '../config/parse.js';
import type { ReplicationConfigInput } from '../config/schema.js';
import type { ReplicationConfig } from '../config/types.js';

export const NODE_NAMES = ['london', 'paris', 'berlin'] as const;
export type NodeName = (typeof NODE_NAMES)[number];
/** The node the demo cuts off: every link to or from it goes through a fault proxy. */
export const CUT_NODE: NodeName = 'berlin';

export function nodeIdOf(name: NodeName): string {
  return `demo.${name}`;
}

export function prefixOf(name: NodeName): string {
  return `${name}:`;
}

export interface PeerRoute {
  name: NodeName;
  /** The peer's Redis, or a proxy in front of it. */
  redisUrl: string;
}

export interface NodeConfigSpec {
  name: NodeName;
  redisUrl: string;
  peers: readonly PeerRoute[];
  /** Where the cursor file goes. */
  dir: string;
  /** `store.cdc_maxlen`; undefined keeps the default (100000). */
  cdcMaxlen?: number;
}

export function nodeConfigInput(spec: NodeConfigSpec): ReplicationConfigInput {
  return {
    local_node_id: nodeIdOf(spec.name),
    local: { redis_url: spec.redisUrl, redis_prefix: prefixOf(spec.name) },
    // Port 0: the OS picks a free port; the demo prints the URL.
    http: { listen: '127.0.0.1:0' },
    store: spec.cdcMaxlen === undefined ? {} : { cdc_maxlen: spec.cdcMaxlen },
    logging: { level: 'warn' },
    settings: {
      // Short blocking reads: a stopping tailer and a healed link are noticed within 250 ms.
      hot_path: { block_timeout: '250ms' },
      // Frequent cycles and short backoff: a failed repair during the cut must not delay the one after the heal.
      cold_path: { enabled: true, interval_sec: 2, backoff_base_sec: 1, backoff_max_sec: 2 },
    },
    peers: spec.peers.map((p) => ({
      node_id: nodeIdOf(p.name),
      redis_url: p.redisUrl,
      redis_prefix: prefixOf(p.name),
      circuit_failure_threshold: 3,
      circuit_reset_timeout_sec: 1,
    })),
    cursor: { sqlite_path: path.join(spec.dir, `${spec.name}.cursors.db`) },
  };
}

export function nodeConfig(spec: NodeConfigSpec): ReplicationConfig {
  return parseConfig(nodeConfigInput(spec), `demo node ${spec.name}`);
}
