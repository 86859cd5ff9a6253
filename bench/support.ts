/** Shared bench plumbing: medians with spread, machine facts, result records. */
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import type { Redis } from 'ioredis';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  spread?: { min: number; max: number };
  runs?: number;
  baseline?: { name: string; value: number };
  note?: string;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(name: string, unit: string, samples: number[]): Figure {
  return { name, unit, value: median(samples), spread: { min: Math.min(...samples), max: Math.max(...samples) }, runs: samples.length };
}

export function machine(): Record<string, string | number> {
  let redis = 'unknown';
  try {
    redis = execFileSync('redis-server', ['--version']).toString().trim().split(' ')[2] ?? redis;
  } catch {
    // reported as unknown
  }
  return {
    // What `nproc` prints: the CPUs this process may run on.
    nproc: os.availableParallelism(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    redis,
    date: new Date().toISOString(),
  };
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

export function printFigures(title: string, figures: Figure[]): void {
  console.log(`\n## ${title}`);
  for (const f of figures) {
    const spread = f.spread ? ` (min ${fmt(f.spread.min)}, max ${fmt(f.spread.max)}, ${f.runs} runs)` : '';
    const base = f.baseline ? ` | baseline ${f.baseline.name}: ${fmt(f.baseline.value)} → ratio ${(f.value / f.baseline.value).toFixed(2)}` : '';
    console.log(`- ${f.name}: ${fmt(f.value)} ${f.unit}${spread}${base}${f.note ? ` — ${f.note}` : ''}`);
  }
}

/** A markdown table: one row per figure, one column per case, and the last case ÷ the first. */
export function markdownTable(cases: string[], rows: { name: string; figures: Figure[] }[]): string {
  const cell = (f: Figure | undefined): string =>
    f === undefined ? '—' : `${fmt(f.value)}${f.spread ? ` (${fmt(f.spread.min)}–${fmt(f.spread.max)})` : ''}`;
  const lines = [`| figure | ${cases.join(' | ')} | ratio |`, `|---|${cases.map(() => '---:').join('|')}|---:|`];
  for (const { name, figures } of rows) {
    const first = figures[0];
    const last = figures[figures.length - 1];
    const ratio = first && last ? (last.value / first.value).toFixed(2) : '—';
    lines.push(`| ${name} | ${figures.map(cell).join(' | ')} | ${ratio} |`);
  }
  return lines.join('\n');
}

/** `--name N` from the command line: a positive integer, or `fallback` when absent. */
export function intArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} needs a positive integer`);
  return v;
}

/** Microseconds a redis-server spent in scripts (EVALSHA + EVAL) since it started or RESETSTAT. */
export async function scriptTime(redis: Redis): Promise<number> {
  let us = 0;
  for (const m of (await redis.info('commandstats')).matchAll(/^cmdstat_(?:evalsha|eval):calls=\d+,usec=(\d+)/gm)) us += Number(m[1]);
  return us;
}
