/**
 * Renders a node's `/status` JSON as the readable table `replication-engine status` prints.
 * Pure: a string in, a string out, so it is unit-tested without a node.
 */
import type { EngineStatus, PeerStatus } from '../engine/engine-status.js';

export interface StatusJson extends EngineStatus {
  merkle_root: string;
  keys: number;
}

function ago(iso: string, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

function repairText(p: PeerStatus, nowMs: number): string {
  const r = p.last_repair;
  if (!r) return 'never';
  return `${r.result}${r.items ? ` (${r.items} keys)` : ''} ${ago(r.at, nowMs)}`;
}

function lagText(p: PeerStatus): string {
  if (p.lag_ms === 0 && p.lag_events === 0) return 'none';
  return `${p.lag_ms} ms / ${p.lag_events} ev`;
}

export function renderStatus(s: StatusJson, nowMs = Date.now()): string {
  const lines = [
    `node ${s.node_id}  state ${s.state}  keys ${s.keys}  root ${s.merkle_root.slice(0, 16)}`,
    '',
  ];
  if (s.peers.length === 0) {
    lines.push('no peers configured');
    return lines.join('\n');
  }
  const header = ['PEER', 'LINK', 'CIRCUIT', 'LAG', 'STATE', 'CURSOR', 'LAST REPAIR'];
  const rows = s.peers.map((p) => [
    p.peer_id,
    p.connected ? 'up' : 'DOWN',
    p.circuit,
    lagText(p),
    p.paused ?? (p.catching_up ? 'catching up' : 'live'),
    p.cursor,
    repairText(p, nowMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  lines.push(fmt(header), ...rows.map(fmt));
  for (const p of s.peers) if (p.last_error) lines.push(`  ${p.peer_id}: last error: ${p.last_error}`);
  return lines.join('\n');
}
