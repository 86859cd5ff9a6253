/**
 * The demo's screen: story lines ("berlin cut off", "cold path repaired 312 keys") that
 * scroll, under which a live table (one line per node) is refreshed about twice a second.
 * On a terminal the table is redrawn in place; anywhere else (CI logs, a pipe) it is
 * printed as plain timestamped lines every couple of seconds, so a log stays readable.
 */
import type { LastRepair } from '../cold-path/repair-outcome.js';
import type { NodeView, PeerView } from './node-snapshot.js';

export type Tone = 'plain' | 'phase' | 'good' | 'bad';

export interface ProgressViewOptions {
  out: NodeJS.WritableStream;
  /** Redraw in place (a terminal) or print plain lines. */
  tty: boolean;
  /** ANSI colours on story lines (terminal, and NO_COLOR unset). */
  color: boolean;
  /** When elapsed time counts from (ms, same clock as `now`). */
  startedAt: number;
  /** Without a terminal, the live lines are printed this often. Default 2000 ms. */
  plainEveryMs?: number;
  now?: () => number;
}

const ANSI: Record<Tone, string> = { plain: '', phase: '\x1b[1;36m', good: '\x1b[32m', bad: '\x1b[33m' };
const RESET = '\x1b[0m';

/** `[ 12.3s]`: time since the demo started, fixed width so lines align. */
export function formatElapsed(ms: number): string {
  return `[${(Math.max(0, ms) / 1000).toFixed(1).padStart(5)}s]`;
}

export function formatLag(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(1)}s`;
}

function circuitLabel(p: PeerView): string {
  // "open" and "half-open" both mean: this link is down and being retried.
  return p.circuit === 'half_open' ? 'half-open' : p.circuit;
}

/** The live table's columns: fixed widths so it stays under ~95 characters, circuits last (variable). */
const COLUMNS = [
  { title: 'node', width: 6, right: false },
  { title: 'writes', width: 6, right: true },
  { title: 'applied', width: 7, right: true },
  { title: 'repaired', width: 8, right: true },
  { title: 'lag', width: 5, right: true },
  { title: 'keys', width: 4, right: true },
  { title: 'root', width: 8, right: false },
  { title: 'circuits', width: 0, right: false },
] as const;

function row(cells: readonly string[]): string {
  return COLUMNS.map((c, i) => {
    const cell = cells[i] ?? '';
    return c.right ? cell.padStart(c.width) : cell.padEnd(c.width);
  }).join('  ').trimEnd();
}

/** The live table's header line. */
export function formatHeader(): string {
  return row(COLUMNS.map((c) => c.title));
}

/**
 * One node's live line: local writes, changes its hot path applied, keys its cold path
 * repaired, the largest lag, live keys, the Merkle root's first 8 hex digits, each peer's circuit.
 */
export function formatNodeLine(v: NodeView): string {
  const applied = v.peers.reduce((n, p) => n + p.hotApplied, 0);
  const repaired = v.peers.reduce((n, p) => n + p.coldRepaired, 0);
  const lag = v.peers.reduce((n, p) => Math.max(n, p.lagMs), 0);
  return row([
    v.name,
    String(v.writes),
    String(applied),
    String(repaired),
    formatLag(lag),
    String(v.keys),
    v.root.slice(0, 8),
    v.peers.map((p) => `${p.name} ${circuitLabel(p)}`).join(', '),
  ]);
}

/** A link's latest cold-path cycle (`status().peers[].last_repair`), with its time on the demo's clock. */
export function formatLastRepair(last: LastRepair | null, startedAt: number): string {
  if (!last) return 'none yet';
  const when = Date.parse(last.at);
  const at = Number.isNaN(when) ? '' : ` at ${((when - startedAt) / 1000).toFixed(1)}s`;
  const keys = `${last.items} key${last.items === 1 ? '' : 's'}`;
  switch (last.result) {
    case 'in_sync':
      return `in sync${at}`;
    case 'repaired':
      return `repaired, ${keys}${at}`;
    case 'partial':
      return `partial, ${keys}${at}`;
    case 'failed':
      return `failed${at}: ${(last.error ?? 'unknown error').slice(0, 60)}`;
  }
}

/**
 * The closing account, one row per link "a ← b": what a's hot path applied from b, what its
 * cold path pulled, the gaps it found in b's stream, and its last cold-path cycle with b.
 */
export function formatLinkTable(views: readonly NodeView[], startedAt: number): string[] {
  const header = `${'link'.padEnd(16)}  ${'hot path'.padStart(8)}  ${'cold path'.padStart(9)}  ${'gaps'.padStart(4)}  last cold-path cycle`;
  const rows = views.flatMap((v) => v.peers.map((p) => [
    `${v.name} ← ${p.name}`.padEnd(16),
    String(p.hotApplied).padStart(8),
    String(p.coldRepaired).padStart(9),
    String(p.gaps).padStart(4),
    formatLastRepair(p.lastRepair, startedAt),
  ].join('  ')));
  return [header, ...rows];
}

/** Cuts a line to the terminal width, so a redraw never wraps (which would break the in-place redraw). */
export function fitToWidth(line: string, columns: number | undefined): string {
  if (columns === undefined || columns <= 1 || line.length < columns) return line;
  return `${line.slice(0, columns - 2)}…`;
}

export class ProgressView {
  private readonly out: NodeJS.WritableStream;
  private readonly tty: boolean;
  private readonly color: boolean;
  private readonly startedAt: number;
  private readonly plainEveryMs: number;
  private readonly now: () => number;
  /** Live lines currently on screen (terminal mode). */
  private drawn: string[] = [];
  private lastPlainAt = -Infinity;
  private lastPlain = '';
  private closed = false;

  constructor(options: ProgressViewOptions) {
    this.out = options.out;
    this.tty = options.tty;
    this.color = options.color;
    this.startedAt = options.startedAt;
    this.plainEveryMs = options.plainEveryMs ?? 2000;
    this.now = options.now ?? Date.now;
  }

  /** A story line, kept on screen above the live lines. */
  event(text: string, tone: Tone = 'plain'): void {
    const line = `${formatElapsed(this.now() - this.startedAt)} ${text}`;
    const painted = this.color && tone !== 'plain' ? `${ANSI[tone]}${line}${RESET}` : line;
    if (!this.tty || this.closed) {
      this.out.write(`${painted}\n`);
      return;
    }
    this.out.write(`${this.erase()}${painted}\n${this.drawn.map((l) => `${l}\n`).join('')}`);
  }

  /** New live lines: redrawn at once on a terminal, printed at most every `plainEveryMs` otherwise. */
  update(views: readonly NodeView[], options: { force?: boolean } = {}): void {
    if (this.closed) return;
    const lines = [formatHeader(), ...views.map(formatNodeLine)];
    if (this.tty) {
      const columns = (this.out as { columns?: number }).columns;
      const fitted = lines.map((l) => fitToWidth(`  ${l}`, columns));
      this.out.write(`${this.erase()}${fitted.map((l) => `${l}\n`).join('')}`);
      this.drawn = fitted;
      return;
    }
    const now = this.now();
    const text = lines.join('\n');
    // Forced (a final picture): still not twice the same lines in a row.
    if (options.force ? text === this.lastPlain : now - this.lastPlainAt < this.plainEveryMs) return;
    this.lastPlainAt = now;
    this.lastPlain = text;
    // The time on the header line; the rows under it, aligned.
    const stamp = formatElapsed(now - this.startedAt);
    this.out.write(lines.map((l, i) => `${i === 0 ? stamp : ' '.repeat(stamp.length)} ${l}\n`).join(''));
  }

  /** Leaves the last live lines on screen as they are; later output goes below them. */
  close(): void {
    this.closed = true;
    this.drawn = [];
  }

  /** Moves up over the live lines and clears to the end of the screen. */
  private erase(): string {
    return this.drawn.length > 0 ? `\x1b[${this.drawn.length}F\x1b[J` : '';
  }
}
