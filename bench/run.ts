/**
 * npm run bench [-- --quick] [-- --json] [-- --only b1,b4] [-- --runs N] [-- --profile]
 *
 * The benchmark suite (BENCHMARKS.md): B1 hot-path throughput, B2 replication lag, B3 cold
 * path, B4 store writes, B5 the engine's peak memory during B1 and B2, B6 HTTP PUT through the
 * daemon and B7 Redis memory per record (measured in B6's runs). Every figure is the
 * median of several runs with its min–max. Real redis-servers from the test harness, on
 * loopback; engines in their own processes (bench/engine-child.ts).
 *
 * - `--quick`: smaller workloads and fewer runs (a smoke run, under 2 minutes).
 * - `--json`: also writes bench/results.json.
 * - `--profile`: V8 CPU profiles of the engine processes into bench/profiles/
 *   (summarise one with `npx tsx bench/profile-summary.ts <file>`).
 * Targets are reported (met / not met), never enforced: the exit code is 0 unless a bench fails.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { runB1 } from './b1-hot-path.js';
import { runB2 } from './b2-lag.js';
import { runB3 } from './b3-cold.js';
import { runB4 } from './b4-store.js';
import { runB6 } from './b6-http-put.js';
import { B5_TARGET_MB, memorySection } from './b5-memory.js';
import { buildEngineChild } from './build-engine.js';
import { markdownRows, met, printSection, type RunOptions, type Section } from './report.js';
import { machine } from './support.js';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const value = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

const ALL = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'] as const;
type BenchId = (typeof ALL)[number];

async function main(): Promise<number> {
  const only = (value('only')?.split(',').map((s) => s.trim().toLowerCase()) ?? [...ALL]) as BenchId[];
  for (const id of only) if (!ALL.includes(id)) throw new Error(`--only: unknown bench "${id}" (use ${ALL.join(', ')})`);
  const runs = value('runs') === undefined ? undefined : Number(value('runs'));
  if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) throw new Error('--runs needs a positive integer');
  const started = Date.now();
  const log = (line: string): void => {
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  };
  const o: RunOptions = { quick: flag('quick'), profile: flag('profile'), log, ...(runs === undefined ? {} : { runs }) };
  const host = { ...machine(), loadAverageAtStart: os.loadavg().map((l) => l.toFixed(2)).join(' ') };
  log(`machine: ${JSON.stringify(host)}`);
  if (only.some((id) => id === 'b1' || id === 'b2' || id === 'b5')) buildEngineChild();

  const sections: Section[] = [];
  const failures: string[] = [];
  let b1Rss: number[] | null = null;
  let b2Rss: number[] | null = null;
  const attempt = async (id: string, fn: () => Promise<void>): Promise<void> => {
    const t = Date.now();
    try {
      await fn();
      log(`${id} done in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    } catch (err) {
      failures.push(id);
      log(`${id} FAILED: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  };
  // B5 is measured during B1 and B2: asking for it runs them.
  if (only.includes('b1') || only.includes('b5')) {
    await attempt('B1', async () => {
      const r = await runB1(o);
      sections.push(r.section);
      b1Rss = r.peakRssKb;
    });
  }
  if (only.includes('b2') || only.includes('b5')) {
    await attempt('B2', async () => {
      const r = await runB2(o);
      sections.push(r.section);
      b2Rss = r.peakRssKb;
    });
  }
  if (only.includes('b3')) await attempt('B3', async () => void sections.push(await runB3(o)));
  if (only.includes('b4')) await attempt('B4', async () => void sections.push(await runB4(o)));
  // B7 (memory per record) is measured during B6's runs: asking for either runs both.
  if (only.includes('b6') || only.includes('b7')) await attempt('B6', async () => void sections.push(...(await runB6(o))));
  if (b1Rss || b2Rss) sections.push(memorySection(b1Rss, b2Rss));

  for (const s of sections) printSection(s);
  const endLoad = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`\n## Summary (${o.quick ? 'quick run' : 'full run'}, ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  console.log(markdownRows(sections));
  console.log(`\nmachine: ${JSON.stringify({ ...host, loadAverageAtEnd: endLoad })}`);
  const missed = sections.flatMap((s) => s.rows.filter((r) => met(r) === false).map((r) => `${s.id} ${r.name}`));
  if (missed.length > 0) console.log(`targets not met (reported, not enforced): ${missed.join('; ')}`);
  if (failures.length > 0) console.log(`FAILED: ${failures.join(', ')}`);

  if (flag('json')) {
    const file = fileURLToPath(new URL('./results.json', import.meta.url));
    writeFileSync(file, `${JSON.stringify({
      quick: o.quick, machine: { ...host, loadAverageAtEnd: endLoad }, durationSec: (Date.now() - started) / 1000,
      memoryTargetMB: B5_TARGET_MB, sections, failures,
    }, null, 2)}\n`);
    log(`wrote ${file}`);
  }
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main();
