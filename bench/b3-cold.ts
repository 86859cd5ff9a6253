/**
 * B3 — cold path: N keys on two stores (1,000,000; `--quick`: 100,000), 1,000 of them divergent
 * on the peer → the time for one repair to converge, and the time of an in-sync check.
 *
 * The method is bench/cold.ts's (the cold-path bench, owned with the cold path): two
 * redis-servers, both stores loaded with the same N keys, 1,000 keys diverged on the peer
 * (700 newer updates, 200 new keys, 100 deletes), one `repairWithPeer` must leave the roots
 * equal, then 21 in-sync checks. It is run as it is, once per run (its own process, so its
 * two loaded stores are gone between runs), and its printed figures are read back.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { row, type RunOptions, type Section } from './report.js';
import { fmt } from './support.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const B3_TARGET_MS = 10_000;

interface ColdRun {
  repairMs: number;
  inSyncMs: number;
  loadRate: number | null;
}

const num = (s: string): number => Number(s.replace(/,/g, ''));

/** Runs bench/cold.ts and reads its figures from its output (see printFigures in bench/support.ts). */
async function coldRun(keys: number, log: (line: string) => void): Promise<ColdRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/cold.ts', '--keys', String(keys)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`bench/cold.ts exited with ${code}:\n${err.slice(-2000)}`);
  const repair = /^- repairWithPeer, [\d,]+ divergent keys → converged: ([\d,.]+) ms/m.exec(out);
  const inSync = /^- in-sync check[^:]*: ([\d,.]+) ms/m.exec(out);
  const load = /^- load [^:]*: ([\d,.]+) changes\/s/m.exec(out);
  if (!repair || !inSync) throw new Error(`bench/cold.ts: could not read its figures from:\n${out.slice(-2000)}`);
  log(`  cold.ts: ${out.split('\n').filter((l) => l.startsWith('- ')).map((l) => l.slice(2)).join('\n  cold.ts: ')}`);
  return { repairMs: num(repair[1]!), inSyncMs: num(inSync[1]!), loadRate: load ? num(load[1]!) : null };
}

export async function runB3(o: RunOptions): Promise<Section> {
  const keys = o.quick ? 100_000 : 1_000_000;
  const runs = o.runs ?? (o.quick ? 1 : 3);
  const repair: number[] = [];
  const inSync: number[] = [];
  for (let r = 0; r < runs; r++) {
    const res = await coldRun(keys, o.log);
    repair.push(res.repairMs);
    inSync.push(res.inSyncMs);
    o.log(`B3 run ${r + 1}/${runs}: repair of 1,000 divergent keys ${fmt(res.repairMs)} ms, in-sync check ${res.inSyncMs} ms` +
      (res.loadRate ? ` (setup: loaded at ${fmt(res.loadRate)} changes/s)` : ''));
  }
  return {
    id: 'B3',
    title: `cold path (${fmt(keys)} keys, 1,000 divergent)`,
    rows: [
      row('repair → converged (1,000 divergent keys)', 'ms', repair, { target: { op: '<=', value: B3_TARGET_MS } }),
      row('in-sync check (median of 21 per run)', 'ms', inSync),
    ],
    notes: [
      `bench/cold.ts run ${runs} time(s) with --keys ${keys}; each run loads two fresh redis-servers. The repair is one repairWithPeer with a budget of 1,000 (700 newer updates, 200 new keys, 100 deletes on the peer); it must leave the Merkle roots equal.`,
    ],
    details: { keys, repair, inSync },
  };
}
