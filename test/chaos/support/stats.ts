// What one chaos run did, read from the oracle, the workload, the fault runner and the daemons' JSON logs:
// the figures docs/reliability.md reports.
import type { Cluster } from './cluster.js';
import type { FaultLog, FaultRunner } from './faults.js';
import type { HealthProbe } from './http-abuse.js';
import type { ListedRecord, Oracle } from './oracle.js';
import type { Workload } from './workload.js';

/** The fault runner's own counts, reported as they are (documented in FaultLog). */
type FaultCounts = Pick<FaultLog,
  | 'flushes' | 'snapshotRestores' | 'bigRecordsSent' | 'bigRecordsAcked' | 'stampEntries' | 'stampRefusals' | 'stampDeliveries'
  | 'authFaults' | 'authReported' | 'authEligible' | 'abuseConnections' | 'abuseClosedByServer'>;

export interface RunStats extends FaultCounts {
  seed: number;
  nodes: number;
  chaosMs: number;
  convergeMs: number;
  records: number;
  keys: number;
  sent: number;
  ackedPuts: number;
  ackedDeletes: number;
  unknown: number;
  refused: number;
  bursts: number;
  faults: number;
  wipes: number;
  maxWipeWaitMs: number;
  poisonEntries: number;
  poisonRejections: number;
  poisonDeliveries: number;
  /** Log counts: rejected entries by reason, gaps by kind, and the rest. */
  rejected: Record<string, number>;
  gaps: Record<string, number>;
  cursorFilesRecovered: number;
  backpressurePauses: number;
  repairs: number;
  repairedItems: number;
  circuitOpens: number;
  /** Longest time from a local data loss (wipe, FLUSHALL, snapshot restore) to the node holding everything again. */
  maxRefillMs: number;
  refills: FaultLog['refillMs'];
  healthProbes: number;
  maxHealthMs: number;
  /** Largest peak RSS of any daemon process of the run (VmHWM), MiB. */
  peakDaemonRssMb: number;
  summary: string;
}

export function collectRunStats(input: {
  seed: number;
  profile: { nodes: number };
  cluster: Cluster;
  oracle: Oracle;
  workload: Workload;
  runner: FaultRunner;
  records: readonly ListedRecord[];
  convergeMs: number;
  chaosMs: number;
  faults: number;
  health: HealthProbe;
}): RunStats {
  const { cluster, oracle, workload, runner } = input;
  const rejected: Record<string, number> = {};
  const gaps: Record<string, number> = {};
  let cursorFilesRecovered = 0;
  let backpressurePauses = 0;
  let repairs = 0;
  let repairedItems = 0;
  let circuitOpens = 0;
  for (const node of cluster.nodes) {
    for (const line of node.allLogs()) {
      const msg = line.msg;
      if (msg.startsWith('rejected CDC entry')) rejected[String(line.reason)] = (rejected[String(line.reason)] ?? 0) + 1;
      else if (msg.startsWith('gap:')) gaps[String(line.kind)] = (gaps[String(line.kind)] ?? 0) + 1;
      else if (msg.startsWith('cursor file is corrupt')) cursorFilesRecovered++;
      else if (msg.startsWith('backpressure:')) backpressurePauses++;
      else if (msg.startsWith('cold path: repaired')) {
        repairs++;
        repairedItems += Number(line.applied ?? 0);
      } else if (msg === 'peer circuit open') circuitOpens++;
    }
  }
  const stats: Omit<RunStats, 'summary'> = {
    seed: input.seed,
    nodes: input.profile.nodes,
    chaosMs: input.chaosMs,
    convergeMs: input.convergeMs,
    records: input.records.length,
    keys: oracle.keys().length,
    sent: workload.stats.sent,
    ackedPuts: oracle.ackedPuts,
    ackedDeletes: oracle.ackedDeletes,
    unknown: oracle.unknownCount,
    refused: oracle.refused,
    bursts: workload.stats.bursts,
    faults: input.faults,
    wipes: runner.log.wipes,
    maxWipeWaitMs: runner.log.maxWipeWaitMs,
    poisonEntries: runner.log.poisonEntries,
    poisonRejections: runner.log.poisonRejections,
    poisonDeliveries: runner.log.poisonDeliveries,
    rejected,
    gaps,
    cursorFilesRecovered,
    backpressurePauses,
    repairs,
    repairedItems,
    circuitOpens,
    flushes: runner.log.flushes,
    snapshotRestores: runner.log.snapshotRestores,
    maxRefillMs: Math.max(0, ...runner.log.refillMs.map((r) => r.ms)),
    refills: runner.log.refillMs,
    bigRecordsSent: runner.log.bigRecordsSent,
    bigRecordsAcked: runner.log.bigRecordsAcked,
    stampEntries: runner.log.stampEntries,
    stampRefusals: runner.log.stampRefusals,
    stampDeliveries: runner.log.stampDeliveries,
    authFaults: runner.log.authFaults,
    authReported: runner.log.authReported,
    authEligible: runner.log.authEligible,
    abuseConnections: runner.log.abuseConnections,
    abuseClosedByServer: runner.log.abuseClosedByServer,
    healthProbes: input.health.probes,
    maxHealthMs: Math.round(input.health.maxMs),
    peakDaemonRssMb: Math.round(Math.max(0, ...cluster.nodes.map((n) => n.peakRssKb)) / 1024),
  };
  const fmt = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  const summary =
    `${stats.nodes} nodes, ${stats.sent} requests (${oracle.summary()}, ${stats.bursts} hot-key bursts); ` +
    `${stats.faults} faults; converged ${(stats.convergeMs / 1000).toFixed(1)}s after healing to ${stats.records} records; ` +
    `poison entries: ${stats.poisonEntries}, rejected ${stats.poisonRejections}/${stats.poisonDeliveries} (entry, reader) pairs, by reason: ${fmt(rejected)}; gaps: ${fmt(gaps)}; cold-path repairs: ${repairs} (${repairedItems} items); ` +
    `cursor files recovered: ${cursorFilesRecovered}; backpressure pauses: ${backpressurePauses}; circuit opens: ${circuitOpens}; ` +
    `wipes: ${stats.wipes}, FLUSHALLs: ${stats.flushes}, snapshot restores: ${stats.snapshotRestores} (longest replication wait ${stats.maxWipeWaitMs} ms; ` +
    `refills ${stats.refills.map((r) => `${r.kind} ${r.ms} ms`).join(', ') || 'none'}); ` +
    `big records: ${stats.bigRecordsAcked}/${stats.bigRecordsSent} acknowledged; hostile stamps: ${stats.stampEntries} entries, logged ${stats.stampRefusals}/${stats.stampDeliveries} (entry, reader) pairs; ` +
    `credential faults: ${stats.authFaults}, cause named by ${stats.authReported}/${stats.authEligible} readers; ` +
    `HTTP abuse: ${stats.abuseConnections} connections, ${stats.abuseClosedByServer} closed by the daemon; ` +
    `/health: ${stats.healthProbes} probes, max ${stats.maxHealthMs} ms; peak daemon RSS ${stats.peakDaemonRssMb} MiB`;
  return { ...stats, summary };
}
