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
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  return `${Math.floor(seconds / 3600)}h ago`;
}

function repairText(p: PeerStatus, nowMs: number): string {
  const repair = p.last_repair;
  if (!repair) return 'never';
  return `${repair.result}${repair.items ? ` (${repair.items} keys)` : ''} ${ago(repair.at, nowMs)}`;
}

function lagText(p: PeerStatus): string {
  if (p.lag_ms === 0 && p.lag_events === 0) return 'none';
  return `${p.lag_ms} ms / ${p.lag_events} ev`;
}

export function renderStatus(status: StatusJson, nowMs = Date.now()): string {
  const lines = [
    `node ${status.node_id}  state ${status.state}  keys ${status.keys}  root ${status.merkle_root.slice(0, 16)}`,
    '',
  ];
  if (status.peers.length === 0) {
    lines.push('no peers configured');
    return lines.join('\n');
  }
  const header = ['PEER', 'LINK', 'CIRCUIT', 'LAG', 'STATE', 'CURSOR', 'LAST REPAIR'];
  const rows = status.peers.map((p) => [
    p.peer_id,
    p.connected ? 'up' : 'DOWN',
    p.circuit,
    lagText(p),
    p.paused ?? (p.catching_up ? 'catching up' : 'live'),
    p.cursor,
    repairText(p, nowMs),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  lines.push(fmt(header), ...rows.map(fmt));
  for (const p of status.peers) if (p.last_error) lines.push(`  ${p.peer_id}: last error: ${p.last_error}`);
  return lines.join('\n');
}
