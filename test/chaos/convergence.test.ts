// The convergence suite: a real mesh (redis-servers + `replication-engine run` child processes, every peer
// link through a fault proxy) under a concurrent random workload and a seeded fault schedule; after healing,
// every node must hold the same records, equal to what the last-writer-wins oracle says, no stamp may be ahead of
// wall clock (the clock rule), no daemon may have crashed, /health must have answered throughout, and
// `replication-engine verify` must pass on every node. Some faults carry their own rules (a node that lost its
// data refills with the same daemon, a refused credential is named in /status, an abused API keeps answering).
//
// Profiles (see scripts/chaos.mjs): quick (CI: 3 nodes, one seed) and long (CHAOS_LONG=1: many seeds, 3-5
// nodes, longer schedules). CHAOS_SEED=n replays seed n; a failing run prints its seed, its schedule and what
// happened, and keeps its configs and daemon logs.
import { setTimeout as sleep } from 'node:timers/promises';
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Cluster } from './support/cluster.js';
import { FaultRunner, formatSchedule, generateSchedule, parseFaultKinds } from './support/faults.js';
import { HealthProbe } from './support/http-abuse.js';
import { Oracle, type Violation } from './support/oracle.js';
import { Rng } from './support/rng.js';
import { collectRunStats, type RunStats } from './support/stats.js';
import { DEFAULT_WORKLOAD, Workload } from './support/workload.js';

const LONG = process.env.CHAOS_LONG === '1';
const SEED = process.env.CHAOS_SEED === undefined || process.env.CHAOS_SEED === '' ? undefined : Number(process.env.CHAOS_SEED);
const SEED_COUNT = Number(process.env.CHAOS_SEEDS ?? (LONG ? 50 : 1));
const FIRST_SEED = process.env.CHAOS_FIRST_SEED ? Number(process.env.CHAOS_FIRST_SEED) : LONG ? 1001 : 1;
const seeds = SEED !== undefined ? [SEED] : Array.from({ length: SEED_COUNT }, (_, i) => FIRST_SEED + i);
/** Bound on convergence after healing. */
const CONVERGE_TIMEOUT_MS = Number(process.env.CHAOS_CONVERGE_TIMEOUT_MS ?? 60_000);
const REPORT_FILE = process.env.CHAOS_REPORT;
const ONLY_FAULTS = process.env.CHAOS_FAULTS ? parseFaultKinds(process.env.CHAOS_FAULTS) : undefined;

interface Profile {
  nodes: number;
  durationMs: number;
  extraFaults: number;
}

function profileFor(seed: number): Profile {
  const nodes = process.env.CHAOS_NODES ? Number(process.env.CHAOS_NODES) : LONG ? 3 + (seed % 3) : 3;
  return LONG ? { nodes, durationMs: 50_000, extraFaults: 6 } : { nodes, durationMs: 40_000, extraFaults: 3 };
}


async function runSeed(seed: number): Promise<RunStats> {
  const profile = profileFor(seed);
  const rng = new Rng(seed);
  const schedule = generateSchedule(rng.fork('schedule'), { nodes: profile.nodes, durationMs: profile.durationMs, extra: profile.extraFaults, ...(ONLY_FAULTS ? { only: ONLY_FAULTS } : {}) });
  const header = `chaos seed ${seed} (${LONG ? 'long' : 'quick'} profile): ${profile.nodes} nodes, ${profile.durationMs / 1000}s of faults\n` +
    `replay: CHAOS_SEED=${seed}${LONG ? ' CHAOS_LONG=1' : ''}${ONLY_FAULTS ? ` CHAOS_FAULTS=${ONLY_FAULTS.join(',')}` : ''} npm run chaos\nschedule:\n${formatSchedule(schedule)}`;
  console.log(header);

  const cluster = await Cluster.start({ nodes: profile.nodes, label: `seed${seed}` });
  const oracle = new Oracle();
  const workload = new Workload(cluster, oracle, rng.fork('workload'), DEFAULT_WORKLOAD);
  const runner = new FaultRunner(cluster, workload, oracle);
  const health = new HealthProbe(cluster);
  let failed = true;
  try {
    const t0 = Date.now();
    health.start();
    workload.start();
    const played = runner.run(schedule);
    await sleep(Math.max(0, t0 + profile.durationMs - Date.now()));
    await workload.stop();
    await runner.healAll();
    await played;
    const healedAt = Date.now();
    const problems: string[] = [];
    for (const node of cluster.nodes) if (!node.alive) problems.push(`${node.id}'s daemon is not running after the schedule`);

    let records;
    try {
      records = await cluster.waitForIdenticalRecords(CONVERGE_TIMEOUT_MS);
    } catch (err) {
      problems.push(`no convergence: ${err instanceof Error ? err.message : String(err)}`);
    }
    const convergeMs = Date.now() - healedAt;
    const clocks = await Promise.all(cluster.nodes.map(async (n) => ({ node: n.id, hlc: await n.redis.hget(n.keys.meta, 'hlc') })));
    const violations: Violation[] = records ? [...oracle.check(records), ...oracle.checkClocks(records, clocks)] : oracle.checkClocks([], clocks);
    for (const v of violations.slice(0, 30)) problems.push(`oracle: ${v.key}: ${v.problem}`);
    if (violations.length > 30) problems.push(`oracle: … ${violations.length - 30} more`);
    for (const u of workload.stats.unexpected.slice(0, 10)) problems.push(`unexpected answer: ${u}`);
    for (const e of runner.log.errors) problems.push(`fault runner: ${e}`);

    if (records) {
      try {
        await cluster.waitForHealthyLinks(healedAt, 30_000);
      } catch (err) {
        problems.push(`links not healthy after healing: ${err instanceof Error ? err.message : String(err)}`);
      }
      for (const node of cluster.nodes) {
        const v = await cluster.verify(node);
        if (v.code !== 0) problems.push(`verify --config ${node.id} exited ${v.code}:\n${v.stdout}${v.stderr}`);
      }
    }
    await runner.settle();
    await health.stop();
    for (const f of health.failures.slice(0, 10)) problems.push(`health: ${f}`);
    for (const exit of cluster.exits) {
      if (!exit.expected) problems.push(`${exit.node}'s daemon exited on its own (code ${exit.code}, signal ${exit.signal}): ${exit.stderr}`);
    }
    // Graceful shutdown still works after all that.
    for (const node of cluster.nodes) {
      const code = await node.stopDaemon();
      if (code !== 0) problems.push(`${node.id}: SIGTERM exit code ${code} (0 expected)`);
    }

    const stats = collectRunStats({ seed, profile, cluster, oracle, workload, runner, records: records ?? [], convergeMs, chaosMs: healedAt - t0, faults: schedule.length, health });
    console.log(`chaos seed ${seed}: what happened:\n${runner.log.timeline.join('\n')}`);
    console.log(`chaos seed ${seed}: ${stats.summary}`);
    if (REPORT_FILE) appendFileSync(REPORT_FILE, JSON.stringify({ ...stats, ok: problems.length === 0, problems }) + '\n');
    if (problems.length > 0) {
      const dir = cluster.dumpLogs();
      throw new Error(
        `${header}\n\nwhat happened:\n${runner.log.timeline.join('\n')}\n\n${stats.summary}\n\nPROBLEMS (${problems.length}):\n` +
          `${problems.map((p) => `- ${p}`).join('\n')}\n\nconfigs and daemon logs kept in ${dir}`,
      );
    }
    failed = false;
    return stats;
  } finally {
    await workload.stop();
    await health.stop();
    await cluster.stop({ keepDir: failed });
  }
}

describe(`convergence under faults (${LONG ? 'long' : 'quick'} profile)`, () => {
  for (const seed of seeds) {
    it(`seed ${seed}: every node converges to the oracle's state`, async () => {
      const stats = await runSeed(seed);
      expect(stats.records).toBeGreaterThan(0);
    }, 15 * 60_000);
  }
});
