#!/usr/bin/env node
// `node scripts/chaos-figures.mjs REPORT.jsonl`: turns the per-seed JSON lines that
// `npm run chaos -- --report FILE` appends into the figures table of docs/reliability.md.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/chaos-figures.mjs REPORT.jsonl');
  process.exit(2);
}
const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l, i) => {
  try {
    return JSON.parse(l);
  } catch (err) {
    console.error(`${file}:${i + 1}: not JSON (${err.message})`);
    process.exit(2);
  }
});
// A seed run again (a replay) counts once: its last line.
const runs = [...new Map(lines.map((r) => [r.seed, r])).values()];
if (runs.length === 0) {
  console.error(`${file}: no runs`);
  process.exit(1);
}

const sum = (f) => runs.reduce((a, r) => a + (f(r) ?? 0), 0);
const n = (x) => x.toLocaleString('en-US');
const sumMap = (f) => {
  const out = {};
  for (const r of runs) for (const [k, v] of Object.entries(f(r) ?? {})) out[k] = (out[k] ?? 0) + v;
  return Object.entries(out).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${n(v)}`).join(', ') || 'none';
};
const sorted = runs.map((r) => r.convergeMs).sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const seeds = runs.map((r) => r.seed).sort((a, b) => a - b);
const failed = runs.filter((r) => !r.ok);
const byNodes = {};
for (const r of runs) byNodes[r.nodes] = (byNodes[r.nodes] ?? 0) + 1;

function refillRow() {
  const all = runs.flatMap((r) => r.refills ?? []).map((x) => x.ms).sort((a, b) => a - b);
  if (all.length === 0) return 'none';
  return `${all.length} refills; median ${s(all[Math.floor((all.length - 1) / 2)])}, max ${s(all[all.length - 1])}`;
}

const rows = [
  ['runs (seeds)', `${runs.length} (${seeds[0]}…${seeds[seeds.length - 1]}), ${runs.length - failed.length} passed${failed.length ? `; FAILED: ${failed.map((r) => r.seed).join(', ')}` : ''}`],
  ['mesh sizes', Object.entries(byNodes).map(([k, v]) => `${v} × ${k} nodes`).join(', ')],
  ['chaos time', `${s(sum((r) => r.chaosMs))} in all (${s(sum((r) => r.chaosMs) / runs.length)} per run)`],
  ['requests sent', n(sum((r) => r.sent))],
  ['acknowledged puts / deletes', `${n(sum((r) => r.ackedPuts))} / ${n(sum((r) => r.ackedDeletes))}`],
  ['unknown outcome (timeouts, resets, 500s)', n(sum((r) => r.unknown))],
  ['refused with 503 (backpressure)', n(sum((r) => r.refused))],
  ['hot-key bursts (one key written on several nodes at once)', n(sum((r) => r.bursts))],
  ['faults injected', n(sum((r) => r.faults))],
  ['Redis wiped (data loss)', `${n(sum((r) => r.wipes))}; longest wait for the data-loss rule ${Math.max(...runs.map((r) => r.maxWipeWaitMs ?? 0))} ms`],
  ['poison entries written', `${n(sum((r) => r.poisonEntries))}; ${n(sum((r) => r.poisonRejections))} rejections by the readers that met them (of ${n(sum((r) => r.poisonDeliveries))} (entry, reader) pairs; the rest were trimmed or cut off before a reader reached them)`],
  ['rejections by reason', sumMap((r) => r.rejected)],
  ['stream gaps detected', sumMap((r) => r.gaps)],
  ['cold-path repairs (items applied)', `${n(sum((r) => r.repairs))} (${n(sum((r) => r.repairedItems))})`],
  ['corrupt cursor files recovered', n(sum((r) => r.cursorFilesRecovered))],
  ['backpressure pauses', n(sum((r) => r.backpressurePauses))],
  ['circuit openings', n(sum((r) => r.circuitOpens))],
  ['records at the end (per run)', `${Math.min(...runs.map((r) => r.records))}–${Math.max(...runs.map((r) => r.records))}`],
  ['FLUSHALLs / snapshot restores under a running daemon', `${n(sum((r) => r.flushes))} / ${n(sum((r) => r.snapshotRestores))}`],
  ['refill after a local data loss (wipe, FLUSHALL, snapshot)', refillRow()],
  ['big records at the payload limit (acknowledged / sent)', `${n(sum((r) => r.bigRecordsAcked))} / ${n(sum((r) => r.bigRecordsSent))}`],
  ['hostile-stamp entries written', `${n(sum((r) => r.stampEntries))}; logged by id in ${n(sum((r) => r.stampRefusals))} of ${n(sum((r) => r.stampDeliveries))} (entry, reader) pairs`],
  ['credential faults', `${n(sum((r) => r.authFaults))}; cause named in /status by ${n(sum((r) => r.authReported))} of ${n(sum((r) => r.authEligible))} readers whose link stayed up`],
  ['abusive HTTP connections', `${n(sum((r) => r.abuseConnections))}; ${n(sum((r) => r.abuseClosedByServer))} closed by the daemon before the window ended`],
  ['/health under all of it', `${n(sum((r) => r.healthProbes))} probes answered, max ${Math.max(...runs.map((r) => r.maxHealthMs ?? 0))} ms`],
  ['peak daemon RSS (largest of any run)', `${Math.max(...runs.map((r) => r.peakDaemonRssMb ?? 0))} MiB`],
  ['convergence after healing', `median ${s(pct(50))}, p90 ${s(pct(90))}, max ${s(pct(100))} (min ${s(sorted[0])})`],
];
console.log('| figure | value |\n|---|---|');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
