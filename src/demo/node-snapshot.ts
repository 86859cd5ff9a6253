/**
 * What the demo shows of a node at one moment, read the way an operator would: the engine's
 * `status()`, its metrics registry, and the store's Merkle root and key count.
 */
import type { ReplicationNode } from '../daemon/node.js';
import type { LastRepair } from '../cold-path/repair-outcome.js';
import type { CircuitState } from '../peer/circuit-breaker.js';

export interface PeerView {
  /** Display name ("paris"), not the node id. */
  name: string;
  circuit: CircuitState;
  connected: boolean;
  lagMs: number;
  /** Changes from this peer the hot path applied (won LWW) so far. */
  hotApplied: number;
  /** Keys the cold path pulled from this peer so far. */
  coldRepaired: number;
  /** Gaps found in this peer's stream so far (trimmed past our cursor, or peer behind it). */
  gaps: number;
  lastRepair: LastRepair | null;
}

export interface NodeView {
  name: string;
  /** Local writes (puts + deletes) the workload made on this node. */
  writes: number;
  keys: number;
  /** Merkle root, lowercase hex. */
  root: string;
  peers: PeerView[];
}

export function displayName(nodeId: string): string {
  return nodeId.startsWith('demo.') ? nodeId.slice('demo.'.length) : nodeId;
}

interface PeerCounter {
  get(): Promise<{ values: { labels: Partial<Record<string, string | number>>; value: number }[] }>;
}

/** A per-peer counter's value for each peer (summed over its other labels). */
async function perPeer(counter: PeerCounter): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for (const { labels, value } of (await counter.get()).values) {
    const peer = String(labels.peer_id ?? '');
    sums.set(peer, (sums.get(peer) ?? 0) + value);
  }
  return sums;
}

export async function snapshotNode(name: string, node: ReplicationNode, writes: number): Promise<NodeView> {
  const m = node.engine.metrics;
  const [root, keys, applied, repaired, gaps] = await Promise.all([
    node.store.merkleRoot(),
    node.store.keyCount(),
    perPeer(m.eventsApplied),
    perPeer(m.repairItemsSubmitted),
    perPeer(m.streamGaps),
  ]);
  const peers = node.engine.status().peers.map((p): PeerView => ({
    name: displayName(p.peer_id),
    circuit: p.circuit,
    connected: p.connected,
    lagMs: p.lag_ms,
    hotApplied: applied.get(p.peer_id) ?? 0,
    coldRepaired: repaired.get(p.peer_id) ?? 0,
    gaps: gaps.get(p.peer_id) ?? 0,
    lastRepair: p.last_repair,
  }));
  return { name, writes, keys, root, peers };
}
