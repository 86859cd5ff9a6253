/**
 * What each bench section returns to bench/run.ts: rows of figures (median of several runs
 * with min–max), with a baseline and a target where the issue sets one, plus notes on method.
 */
import { fmt, median, type Figure } from './support.js';

export interface Target {
  /** `>=`: higher is better; `<=`: lower is better. */
  op: '>=' | '<=';
  value: number;
}

export interface Row extends Figure {
  target?: Target;
  /** Extra baselines (the first one is `baseline`). */
  baselines?: { name: string; value: number }[];
}

export interface Section {
  id: string;
  title: string;
  rows: Row[];
  notes: string[];
  /** Anything else worth keeping in results.json (raw samples, counters). */
  details?: Record<string, unknown>;
}

export interface RunOptions {
  quick: boolean;
  /** Write CPU profiles of engine processes to bench/profiles/. */
  profile: boolean;
  /** Skip the baselines (B1): for profiling iterations. */
  engineOnly?: boolean;
  /** Override the number of runs per figure. */
  runs?: number;
  log: (line: string) => void;
}

export function row(name: string, unit: string, samples: number[], extra: Partial<Row> = {}): Row {
  return {
    name, unit, value: median(samples), spread: { min: Math.min(...samples), max: Math.max(...samples) }, runs: samples.length, ...extra,
  };
}

export function met(r: Row): boolean | undefined {
  if (!r.target) return undefined;
  return r.target.op === '>=' ? r.value >= r.target.value : r.value <= r.target.value;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const cellValue = (r: Row): string =>
  `${fmt(r.value)} ${r.unit}${r.spread && r.runs && r.runs > 1 ? ` (${fmt(r.spread.min)}–${fmt(r.spread.max)})` : ''}`;

/** The BENCHMARKS.md table: figure, value, baseline, ratio, target, met?. */
export function markdownRows(sections: readonly Section[]): string {
  const lines = ['| figure | value (median, min–max) | baseline | ratio | target | met? |', '|---|---:|---|---:|---|:---:|'];
  for (const s of sections) {
    for (const r of s.rows) {
      const bases = [...(r.baseline ? [r.baseline] : []), ...(r.baselines ?? [])];
      const baseline = bases.length ? bases.map((b) => `${b.name}: ${fmt(b.value)}`).join('<br>') : '—';
      const ratio = bases.length ? bases.map((b) => (r.value / b.value).toFixed(2)).join('<br>') : '—';
      const target = r.target ? `${r.target.op === '>=' ? '≥' : '≤'} ${fmt(r.target.value)} ${r.unit}` : '—';
      const ok = met(r);
      lines.push(`| ${s.id} ${r.name} | ${cellValue(r)} | ${baseline} | ${ratio} | ${target} | ${ok === undefined ? '—' : ok ? 'yes' : '**no**'} |`);
    }
  }
  return lines.join('\n');
}

export function printSection(s: Section): void {
  console.log(`\n## ${s.id} — ${s.title}`);
  for (const r of s.rows) {
    const spread = r.spread && r.runs && r.runs > 1 ? ` (min ${fmt(r.spread.min)}, max ${fmt(r.spread.max)}, ${r.runs} runs)` : r.runs ? ` (${r.runs} run)` : '';
    const bases = [...(r.baseline ? [r.baseline] : []), ...(r.baselines ?? [])];
    const base = bases.map((b) => ` | ${b.name}: ${fmt(b.value)} → ratio ${(r.value / b.value).toFixed(2)}`).join('');
    const ok = met(r);
    const target = r.target ? ` | target ${r.target.op} ${fmt(r.target.value)}: ${ok ? 'met' : 'NOT met'}` : '';
    console.log(`- ${r.name}: ${fmt(r.value)} ${r.unit}${spread}${base}${target}${r.note ? ` — ${r.note}` : ''}`);
  }
  for (const n of s.notes) console.log(`  · ${n}`);
}
