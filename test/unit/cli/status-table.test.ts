import { describe, expect, it } from 'vitest';
import { renderStatus, type StatusJson } from '../../../src/cli/status-table.js';
import type { PeerStatus } from '../../../src/engine/engine-status.js';

const NOW = Date.parse('2026-12-03T12:00:00Z');

function peer(overrides: Partial<PeerStatus>): PeerStatus {
  return {
    peer_id: 'node-b',
    connected: true,
    circuit: 'closed',
    cursor: '1700000000000-0',
    lag_ms: 0,
    lag_events: 0,
    catching_up: false,
    paused: null,
    batch_size: 100,
    last_error: null,
    last_repair: null,
    counters: { events_read: 0, events_applied: 0, events_deduped: 0, events_rejected: 0, batches: 0, gaps: 0 } as PeerStatus['counters'],
    ...overrides,
  };
}

function status(peers: PeerStatus[]): StatusJson {
  return { node_id: 'node-a', state: 'running', cursor_error: null, peers, merkle_root: 'ab'.repeat(32), keys: 42 };
}

describe('renderStatus', () => {
  it('heads the table with the node, and says so when there are no peers', () => {
    const text = renderStatus(status([]), NOW);
    expect(text.split('\n')[0]).toBe(`node node-a  state running  keys 42  root ${'ab'.repeat(8)}`);
    expect(text).toContain('no peers configured');
  });

  it('shows one row per peer: link, circuit, lag, state and the last repair with its age', () => {
    const rows = renderStatus(status([
      peer({ peer_id: 'node-b', last_repair: { at: '2026-12-03T11:59:30Z', result: 'repaired', items: 7 } }),
      peer({ peer_id: 'node-c', connected: false, circuit: 'open', lag_ms: 1500, lag_events: 30, paused: 'circuit_open', last_repair: { at: '2026-12-03T11:15:00Z', result: 'in_sync', items: 0 } }),
      peer({ peer_id: 'node-d', catching_up: true, last_repair: { at: '2026-12-03T09:00:00Z', result: 'failed', items: 0 } }),
    ]), NOW).split('\n');
    expect(rows[2]).toMatch(/^PEER +LINK +CIRCUIT +LAG +STATE +CURSOR +LAST REPAIR$/);
    expect(rows[3]).toMatch(/^node-b +up +closed +none +live +1700000000000-0 +repaired \(7 keys\) 30s ago$/);
    expect(rows[4]).toMatch(/^node-c +DOWN +open +1500 ms \/ 30 ev +circuit_open +1700000000000-0 +in_sync 45m ago$/);
    expect(rows[5]).toMatch(/^node-d +up +closed +none +catching up +1700000000000-0 +failed 3h ago$/);
  });

  it('lists each peer’s last error under the table', () => {
    const text = renderStatus(status([peer({ last_error: 'peer node-b at 127.0.0.1:6380: not connected: WRONGPASS' })]), NOW);
    expect(text.split('\n').at(-1)).toBe('  node-b: last error: peer node-b at 127.0.0.1:6380: not connected: WRONGPASS');
    expect(text).toContain('never');
  });
});
