// The demo's screen: live table formatting, the closing link table, terminal vs plain output.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { NodeView, PeerView } from '../../../src/demo/node-snapshot.js';
import {
  fitToWidth, formatElapsed, formatHeader, formatLag, formatLastRepair, formatLinkTable, formatNodeLine, ProgressView,
} from '../../../src/demo/progress-view.js';

const peer = (over: Partial<PeerView>): PeerView => ({
  name: 'paris', circuit: 'closed', connected: true, lagMs: 0, hotApplied: 0, coldRepaired: 0, gaps: 0, lastRepair: null, ...over,
});

const view = (over: Partial<NodeView> = {}): NodeView => ({
  name: 'london',
  writes: 312,
  keys: 181,
  root: '9f3a0c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
  peers: [peer({ name: 'paris', hotApplied: 400, lagMs: 3 }), peer({ name: 'berlin', circuit: 'open', hotApplied: 204, coldRepaired: 12, lagMs: 1500 })],
  ...over,
});

function sink(columns?: number): { out: PassThrough & { columns?: number }; text: () => string } {
  const out = new PassThrough() as PassThrough & { columns?: number };
  if (columns !== undefined) out.columns = columns;
  let text = '';
  out.on('data', (c: Buffer) => {
    text += c.toString('utf8');
  });
  return { out, text: () => text };
}

describe('formatting', () => {
  it('elapsed time and lag', () => {
    expect(formatElapsed(0)).toBe('[  0.0s]');
    expect(formatElapsed(12_345)).toBe('[ 12.3s]');
    expect(formatElapsed(-5)).toBe('[  0.0s]');
    expect(formatLag(3.4)).toBe('3ms');
    expect(formatLag(999)).toBe('999ms');
    expect(formatLag(1500)).toBe('1.5s');
  });

  it('a node line: totals over peers, worst lag, root prefix, each circuit; aligned under the header', () => {
    const line = formatNodeLine(view());
    expect(line).toBe('london     312      604        12   1.5s   181  9f3a0c1d  paris closed, berlin open');
    const header = formatHeader();
    expect(header).toBe('node    writes  applied  repaired    lag  keys  root      circuits');
    // Right-aligned numbers end where their titles end.
    for (const title of ['writes', 'applied', 'repaired', 'lag', 'keys']) {
      const end = header.indexOf(title) + title.length;
      expect(line[end - 1]).toMatch(/\S/);
      expect(line[end]).toBe(' ');
    }
    expect(line.length).toBeLessThan(100);
  });

  it('half-open reads as "half-open"', () => {
    expect(formatNodeLine(view({ peers: [peer({ name: 'berlin', circuit: 'half_open' })] }))).toMatch(/berlin half-open$/);
  });

  it('lines never wrap a terminal', () => {
    expect(fitToWidth('abcdef', undefined)).toBe('abcdef');
    expect(fitToWidth('abcdef', 7)).toBe('abcdef');
    expect(fitToWidth('abcdefgh', 6)).toBe('abcd…');
    expect(fitToWidth('abcdefgh', 6).length).toBe(5);
  });

  it('last repair, on the demo clock', () => {
    const startedAt = Date.parse('2025-01-01T00:00:00.000Z');
    expect(formatLastRepair(null, startedAt)).toBe('none yet');
    expect(formatLastRepair({ at: '2025-01-01T00:00:09.250Z', result: 'repaired', items: 170 }, startedAt)).toBe('repaired, 170 keys at 9.3s');
    expect(formatLastRepair({ at: '2025-01-01T00:00:01.000Z', result: 'partial', items: 1 }, startedAt)).toBe('partial, 1 key at 1.0s');
    expect(formatLastRepair({ at: '2025-01-01T00:00:02.000Z', result: 'in_sync', items: 0 }, startedAt)).toBe('in sync at 2.0s');
    expect(formatLastRepair({ at: '2025-01-01T00:00:02.000Z', result: 'failed', items: 0, error: 'peer_timeout: no answer' }, startedAt))
      .toBe('failed at 2.0s: peer_timeout: no answer');
  });

  it('the link table: one row per "node ← peer"', () => {
    const lines = formatLinkTable([view()], 0);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^link +hot path +cold path +gaps +last cold-path cycle$/);
    expect(lines[2]).toMatch(/^london ← berlin +204 +12 +0 +none yet$/);
  });
});

describe('ProgressView', () => {
  it('without a terminal: story lines at once, the table at most every plainEveryMs, no escape codes', () => {
    let now = 1000;
    const { out, text } = sink();
    const v = new ProgressView({ out, tty: false, color: false, startedAt: 1000, plainEveryMs: 2000, now: () => now });
    v.update([view()]);
    now += 500;
    v.update([view({ writes: 400 })]); // too soon: skipped
    v.event('act 2/3 — berlin cut off', 'phase');
    now += 2000;
    v.update([view({ writes: 500 })]);
    v.update([view({ writes: 500 })], { force: true }); // forced, but the same lines: not repeated
    const lines = text().trimEnd().split('\n');
    expect(text()).not.toContain('\x1b');
    expect(lines).toEqual([
      `[  0.0s] ${formatHeader()}`,
      `         ${formatNodeLine(view())}`,
      '[  0.5s] act 2/3 — berlin cut off',
      `[  2.5s] ${formatHeader()}`,
      `         ${formatNodeLine(view({ writes: 500 }))}`,
    ]);
  });

  it('on a terminal: the live lines are redrawn in place, story lines scroll above them', () => {
    const { out, text } = sink(200);
    const v = new ProgressView({ out, tty: true, color: true, startedAt: 0, now: () => 1500 });
    v.update([view()]);
    const first = text();
    expect(first).not.toContain('\x1b[');
    v.update([view({ writes: 999 })]);
    // Up two lines (header + one node), clear, redraw.
    expect(text().slice(first.length)).toBe(`\x1b[2F\x1b[J  ${formatHeader()}\n  ${formatNodeLine(view({ writes: 999 }))}\n`);
    const before = text().length;
    v.event('berlin cut off', 'bad');
    expect(text().slice(before)).toBe(`\x1b[2F\x1b[J\x1b[33m[  1.5s] berlin cut off\x1b[0m\n  ${formatHeader()}\n  ${formatNodeLine(view({ writes: 999 }))}\n`);
    v.close();
    const closedAt = text().length;
    v.event('done');
    v.update([view()]);
    expect(text().slice(closedAt)).toBe('[  1.5s] done\n');
  });

  it('on a narrow terminal the live lines are cut, never wrapped', () => {
    const { out, text } = sink(40);
    new ProgressView({ out, tty: true, color: false, startedAt: 0 }).update([view()]);
    for (const line of text().trimEnd().split('\n')) expect(line.length).toBeLessThan(40);
  });
});
