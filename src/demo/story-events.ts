/**
 * Turns successive node snapshots into the demo's story lines: a link's circuit opening
 * and closing, a gap found in a peer's stream, a cold-path repair that pulled keys. Only
 * changes are reported, once each, so the story stays short while the live lines tick.
 *
 * Repairs are told from the per-peer counter of keys pulled, not from `last_repair`: two
 * repairs can finish between two snapshots (a gap's repair, then a queued cycle finding the
 * trees in sync), and the second would hide the first.
 */
import type { NodeView } from './node-snapshot.js';
import type { Tone } from './progress-view.js';

export interface StoryLine {
  text: string;
  tone: Tone;
}

interface LinkState {
  down: boolean;
  gaps: number;
  /** A gap is told once per link: the engine may count one cut as several (its counter is in the summary). */
  gapTold: boolean;
  repaired: number;
}

export class StoryEvents {
  private readonly links = new Map<string, LinkState>();
  /** Repairs are told from the heal on: while writes run they mostly mop up changes still in flight. */
  reportRepairs = false;

  next(views: readonly NodeView[]): StoryLine[] {
    const lines: StoryLine[] = [];
    for (const v of views) {
      for (const p of v.peers) {
        const link = `${v.name} ← ${p.name}`;
        const prev = this.links.get(link);
        const down = p.circuit !== 'closed';
        if (prev) {
          if (down && !prev.down) lines.push({ text: `${link}: circuit open — ${p.name} unreachable, retried every second`, tone: 'bad' });
          if (!down && prev.down) lines.push({ text: `${link}: circuit closed; the hot path reads on from ${v.name}'s cursor`, tone: 'good' });
          if (p.gaps > prev.gaps && !prev.gapTold) {
            lines.push({ text: `${link}: gap — ${p.name}'s stream trimmed past ${v.name}'s cursor; repair requested`, tone: 'bad' });
          }
          const pulled = p.coldRepaired - prev.repaired;
          if (this.reportRepairs && pulled > 0) {
            const more = p.lastRepair?.result === 'partial' ? ' (budget reached; the rest next cycle)' : '';
            lines.push({ text: `${link}: cold path repaired ${pulled} key${pulled === 1 ? '' : 's'}${more}`, tone: 'good' });
          }
        }
        this.links.set(link, { down, gaps: p.gaps, gapTold: (prev?.gapTold ?? false) || (prev !== undefined && p.gaps > prev.gaps), repaired: p.coldRepaired });
      }
    }
    return lines;
  }
}
