/**
 * What a new configuration does to the running peers (pure; the engine carries it out):
 *
 *   removed      no longer configured: stopped, and their metric series dropped
 *   reconnected  configured with new connection settings: stopped, then started anew (their
 *                metric series, cursor and cold-path record carry on)
 *   kept         the same connections: their settings are applied live
 *   started      new runtimes to start, in configuration order: the added peers and the reconnected ones
 */
import type { PeerConfig } from '../config/types.js';

export interface PeerPlan {
  removed: string[];
  reconnected: string[];
  /** The kept peers' new configuration. */
  kept: PeerConfig[];
  started: PeerConfig[];
}

/** Fields of a peer whose change needs new connections (a new runtime); the rest apply live. */
export function peerNeedsReconnect(a: PeerConfig, b: PeerConfig): boolean {
  return a.redis_url !== b.redis_url || a.redis_prefix !== b.redis_prefix || a.username !== b.username ||
    a.password !== b.password || JSON.stringify(a.tls ?? null) !== JSON.stringify(b.tls ?? null) ||
    a.circuit_failure_threshold !== b.circuit_failure_threshold || a.circuit_reset_timeout_sec !== b.circuit_reset_timeout_sec;
}

/** `current`: the running peers' configuration by peer id; `next`: the new configuration's peers. */
export function planPeers(current: ReadonlyMap<string, PeerConfig>, next: readonly PeerConfig[]): PeerPlan {
  const wanted = new Map(next.map((p) => [p.node_id, p]));
  const plan: PeerPlan = { removed: [], reconnected: [], kept: [], started: [] };
  for (const [peerId, config] of current) {
    const peer = wanted.get(peerId);
    if (!peer) plan.removed.push(peerId);
    else if (peerNeedsReconnect(config, peer)) plan.reconnected.push(peerId);
    else plan.kept.push(peer);
  }
  const running = new Set(plan.kept.map((p) => p.node_id));
  for (const peer of next) {
    if (running.has(peer.node_id)) continue;
    running.add(peer.node_id);
    plan.started.push(peer);
  }
  return plan;
}
