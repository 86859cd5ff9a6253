// The seeded fault schedule and the runner that plays it against a cluster.
//
// A schedule is a list of faults, each starting at a time offset: link faults (cut, black hole, latency,
// partitions) hold for a window and are then healed; node faults (Redis restarted with or without its data,
// daemon kill -9 with its cursor file deleted or corrupted, poison stream entries, stream trimming past the
// readers' cursors, memory pressure) act once or for a window. The hostile and careless kinds (issue 14):
// bursts of records at the payload limit, hostile stamps on the wire, FLUSHALL and an older-snapshot restore
// under a running daemon, a peer's Redis refusing the daemon's credentials, slow and stalled HTTP clients.
// Every generated schedule contains every kind at least once, so even a single seed exercises them all.
//
// Node-level actions take one global lock: the data-loss rule (see `wipe`) must look at a mesh where no other
// node is being wiped or restarted at the same moment.
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { encodeCdcEntry } from '../../../src/cdc/codec.js';
import { DEFAULTS } from '../../../src/defaults.js';
import { ZSTD_MAGIC } from '../../../src/cdc/compression.js';
import { formatHlc } from '../../../src/model/hlc.js';
import { streamedZeroFrame } from '../../support/zstd-frames.js';
import { waitFor } from '../../support/wait.js';
import { bigBody, bigKey, burstSizes, nestedJson } from './big-records.js';
import { MAX_PAYLOAD_BYTES, PEER_PASSWORD, PEER_USER, type Cluster, type ClusterNode } from './cluster.js';
import { describeStampKind, hostileStampFields, STAMP_KINDS, type StampKind } from './hostile-entries.js';
import { abuseHttp, abusePlan } from './http-abuse.js';
import { flushAll, restoreAof, snapshotAof, waitForRefill } from './local-loss.js';
import { compareStamps, type Oracle } from './oracle.js';
import { Rng } from './rng.js';
import type { Workload } from './workload.js';

export const POISON_KINDS = [
  'bad_zstd', 'bad_hash', 'missing_data', 'missing_key', 'unknown_op', 'bad_meta', 'bad_stamp', 'zstd_bomb', 'zstd_over_limit', 'bad_key',
  // Extreme stamps (issue 14): past 2^53 ms, at 10^16 − 1 ms, and far in the future (refused, not rejected).
  'stamp_past_2_53', 'stamp_max_digits', 'stamp_far_future',
] as const;
export type PoisonKind = (typeof POISON_KINDS)[number];

export type Fault =
  | { kind: 'link-cut'; reader: number; owner: number; durationMs: number }
  | { kind: 'link-blackhole'; reader: number; owner: number; durationMs: number }
  | { kind: 'link-slow'; reader: number; owner: number; latencyMs: number; durationMs: number }
  | { kind: 'partition'; groups: number[][]; mode: 'refuse' | 'blackhole'; durationMs: number }
  | { kind: 'redis-restart'; node: number; how: 'sigterm' | 'sigkill' }
  | { kind: 'redis-wipe'; node: number }
  | { kind: 'daemon-kill'; node: number; cursor: 'keep' | 'delete' | 'garbage'; downMs: number; garbageSeed: number }
  | { kind: 'poison'; node: number; entries: PoisonKind[] }
  | { kind: 'stream-trim'; node: number; durationMs: number }
  | { kind: 'memory-pressure'; node: number; durationMs: number }
  | { kind: 'big-burst'; node: number; count: number; compressible: number; backlog: boolean; durationMs: number; seed: number }
  | { kind: 'hostile-stamps'; node: number; entries: StampKind[]; delKey: number }
  | { kind: 'redis-flushall'; node: number }
  | { kind: 'snapshot-restore'; node: number; ageMs: number }
  | { kind: 'peer-auth'; owner: number; how: 'password' | 'acl'; durationMs: number }
  | { kind: 'http-abuse'; node: number; durationMs: number; seed: number };

export type FaultKind = Fault['kind'];
export const FAULT_KINDS: readonly FaultKind[] = [
  'link-cut', 'link-blackhole', 'link-slow', 'partition', 'redis-restart', 'redis-wipe', 'daemon-kill', 'poison', 'stream-trim', 'memory-pressure',
  'big-burst', 'hostile-stamps', 'redis-flushall', 'snapshot-restore', 'peer-auth', 'http-abuse',
];

export interface ScheduledFault {
  atMs: number;
  fault: Fault;
}

export interface ScheduleOptions {
  nodes: number;
  /** Faults start within [1 s, durationMs - their window]. */
  durationMs: number;
  /** Random faults on top of one of each kind. */
  extra: number;
  /**
   * Only these kinds (CHAOS_FAULTS, `npm run chaos -- --faults a,b`): to replay one fault class against a fix.
   * The final partition stays. Undefined: every kind.
   */
  only?: readonly FaultKind[];
}

/** Parses a comma-separated list of fault kinds, naming an unknown one. */
export function parseFaultKinds(text: string): FaultKind[] {
  const kinds = text.split(',').map((k) => k.trim()).filter((k) => k !== '');
  for (const k of kinds) if (!FAULT_KINDS.includes(k as FaultKind)) throw new Error(`unknown fault kind "${k}" (known: ${FAULT_KINDS.join(', ')})`);
  return kinds as FaultKind[];
}

function faultOf(kind: FaultKind, rng: Rng, n: number): Fault {
  const node = rng.int(0, n - 1);
  const window = (): number => rng.int(2000, 8000);
  const link = (): { reader: number; owner: number } => {
    const reader = rng.int(0, n - 1);
    const owner = (reader + rng.int(1, n - 1)) % n;
    return { reader, owner };
  };
  switch (kind) {
    case 'link-cut':
      return { kind, ...link(), durationMs: window() };
    case 'link-blackhole':
      return { kind, ...link(), durationMs: window() };
    case 'link-slow':
      return { kind, ...link(), latencyMs: rng.int(50, 400), durationMs: window() };
    case 'partition': {
      const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
      const cut = rng.int(1, n - 1);
      return { kind, groups: [order.slice(0, cut).sort((x, y) => x - y), order.slice(cut).sort((x, y) => x - y)], mode: rng.chance(0.5) ? 'refuse' : 'blackhole', durationMs: window() };
    }
    case 'redis-restart':
      return { kind, node, how: rng.pick(['sigterm', 'sigkill'] as const) };
    case 'redis-wipe':
      return { kind, node };
    case 'daemon-kill':
      return { kind, node, cursor: rng.pick(['keep', 'delete', 'garbage'] as const), downMs: rng.int(0, 2500), garbageSeed: rng.u32() };
    case 'poison':
      return { kind, node, entries: rng.shuffle(POISON_KINDS).slice(0, rng.int(3, POISON_KINDS.length)) };
    case 'stream-trim':
      return { kind, node, durationMs: window() };
    case 'memory-pressure':
      return { kind, node, durationMs: window() };
    case 'big-burst': {
      const count = rng.int(24, 40);
      // Half the bursts all compressible (≈ 1 MiB each inside a frame of a few hundred bytes), half mixed.
      const compressible = rng.chance(0.5) ? count : rng.int(0, count);
      return { kind, node, count, compressible, backlog: rng.chance(0.6), durationMs: window(), seed: rng.u32() };
    }
    case 'hostile-stamps':
      return { kind, node, entries: rng.shuffle(STAMP_KINDS).slice(0, rng.int(2, STAMP_KINDS.length)), delKey: rng.int(0, 1000) };
    case 'redis-flushall':
      return { kind, node };
    case 'snapshot-restore':
      return { kind, node, ageMs: window() };
    case 'peer-auth':
      return { kind, owner: node, how: rng.pick(['password', 'acl'] as const), durationMs: window() };
    case 'http-abuse':
      return { kind, node, durationMs: window(), seed: rng.u32() };
  }
}

function windowOf(f: Fault): number {
  switch (f.kind) {
    case 'daemon-kill':
      return f.downMs + 3000;
    case 'redis-restart':
    case 'redis-wipe':
    case 'redis-flushall':
    case 'poison':
    case 'hostile-stamps':
      return 2000;
    case 'snapshot-restore':
      return f.ageMs + 2000;
    default:
      return f.durationMs;
  }
}

/** Variants every schedule contains at least once, on top of one fault of each kind. */
const REQUIRED_VARIANTS: ((f: Fault) => Fault | null)[] = [
  (f) => (f.kind === 'daemon-kill' ? { ...f, cursor: 'garbage' } : null),
  (f) => (f.kind === 'daemon-kill' ? { ...f, cursor: 'delete' } : null),
  (f) => (f.kind === 'redis-restart' ? { ...f, how: 'sigkill' } : null),
  (f) => (f.kind === 'redis-restart' ? { ...f, how: 'sigterm' } : null),
  (f) => (f.kind === 'poison' ? { ...f, entries: [...POISON_KINDS] } : null),
  (f) => (f.kind === 'hostile-stamps' ? { ...f, entries: [...STAMP_KINDS] } : null),
  (f) => (f.kind === 'peer-auth' ? { ...f, how: 'password' } : null),
  (f) => (f.kind === 'peer-auth' ? { ...f, how: 'acl' } : null),
  (f) => (f.kind === 'big-burst' ? { ...f, backlog: true } : null),
];
const REQUIRED_KINDS: FaultKind[] = ['daemon-kill', 'daemon-kill', 'redis-restart', 'redis-restart', 'poison', 'hostile-stamps', 'peer-auth', 'peer-auth', 'big-burst'];

export function generateSchedule(rng: Rng, options: ScheduleOptions): ScheduledFault[] {
  const allowed = options.only ?? FAULT_KINDS;
  const kinds = rng.shuffle([
    ...allowed.filter((k) => !REQUIRED_KINDS.includes(k)),
    ...REQUIRED_KINDS.filter((k) => allowed.includes(k)),
    ...Array.from({ length: options.extra }, () => rng.pick(allowed)),
  ]);
  const required = [...REQUIRED_VARIANTS];
  const out = kinds.map((kind) => {
    let fault = faultOf(kind, rng, options.nodes);
    const i = required.findIndex((variant) => variant(fault) !== null);
    if (i >= 0) fault = required.splice(i, 1)[0]!(fault)!;
    const latest = Math.max(1000, options.durationMs - windowOf(fault));
    return { atMs: rng.int(1000, latest), fault };
  });
  // The mesh is split while the workload still runs at the end, and the split lasts past it: the check
  // starts from diverged nodes, so "time to converge after healing" measures a real repair.
  const final = faultOf('partition', rng, options.nodes);
  if (final.kind === 'partition') final.durationMs = 60_000;
  out.push({ atMs: Math.max(1000, options.durationMs - rng.int(4000, 8000)), fault: final });
  return out.sort((a, b) => a.atMs - b.atMs);
}

export function describeFault(f: Fault): string {
  const id = (i: number): string => `node-${i}`;
  const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
  switch (f.kind) {
    case 'link-cut':
      return `cut link ${id(f.reader)}←${id(f.owner)} (refuse + reset) for ${secs(f.durationMs)}`;
    case 'link-blackhole':
      return `black-hole link ${id(f.reader)}←${id(f.owner)} for ${secs(f.durationMs)}`;
    case 'link-slow':
      return `slow link ${id(f.reader)}←${id(f.owner)} by ${f.latencyMs}ms for ${secs(f.durationMs)}`;
    case 'partition':
      return `partition {${f.groups[0]!.map(id).join(',')}} | {${f.groups[1]!.map(id).join(',')}} (${f.mode}) for ${secs(f.durationMs)}`;
    case 'redis-restart':
      return `restart ${id(f.node)}'s Redis keeping its data (${f.how === 'sigkill' ? 'kill -9, AOF fsync always' : 'SIGTERM'})`;
    case 'redis-wipe':
      return `restart ${id(f.node)}'s Redis EMPTY (data loss)`;
    case 'daemon-kill':
      return `kill -9 ${id(f.node)}'s daemon, cursor file: ${f.cursor}, down ${secs(f.downMs)}`;
    case 'poison':
      return `XADD poison entries into ${id(f.node)}'s stream: ${f.entries.join(', ')}`;
    case 'stream-trim':
      return `cut every link reading ${id(f.node)} for ${secs(f.durationMs)} and XTRIM its stream to 0 in the middle`;
    case 'memory-pressure':
      return `${id(f.node)}'s Redis near maxmemory for ${secs(f.durationMs)}`;
    case 'big-burst':
      return `burst of ${f.count} records at the payload limit to ${id(f.node)} (${f.compressible} compressible)${f.backlog ? `, its readers cut for ${secs(f.durationMs)} (backlog)` : ''}`;
    case 'hostile-stamps':
      return `XADD hostile stamps into ${id(f.node)}'s stream: ${f.entries.join(', ')}`;
    case 'redis-flushall':
      return `FLUSHALL ${id(f.node)}'s Redis under its running daemon (data loss)`;
    case 'snapshot-restore':
      return `restart ${id(f.node)}'s Redis from its AOF as of ${secs(f.ageMs)} earlier, daemon running (data loss)`;
    case 'peer-auth':
      return `${id(f.owner)}'s Redis refuses the daemons' peer user (${f.how === 'password' ? 'password changed' : 'ACL: -@all'}) for ${secs(f.durationMs)}`;
    case 'http-abuse':
      return `slow and stalled HTTP clients against ${id(f.node)} for ${secs(f.durationMs)}`;
  }
}

export function formatSchedule(schedule: readonly ScheduledFault[]): string {
  return schedule.map((s) => `  t+${(s.atMs / 1000).toFixed(1).padStart(5)}s  ${describeFault(s.fault)}`).join('\n');
}

/** What the runner did and saw, for the report. */
export interface FaultLog {
  timeline: string[];
  poisonEntries: number;
  /** (entry, reader) pairs: how many readers logged the rejection of each poison entry, of how many possible. */
  poisonRejections: number;
  poisonDeliveries: number;
  wipes: number;
  /** Longest wait for the data-loss rule before a wipe. */
  maxWipeWaitMs: number;
  flushes: number;
  snapshotRestores: number;
  /** Time from each local data loss (wipe, FLUSHALL, snapshot restore) to the node holding everything again. */
  refillMs: { kind: string; ms: number }[];
  bigRecordsSent: number;
  bigRecordsAcked: number;
  stampEntries: number;
  /** (entry, reader) pairs where the reader logged the hostile-stamp entry by id (refused or counted). */
  stampRefusals: number;
  stampDeliveries: number;
  authFaults: number;
  /** (fault, reader) pairs where the reader named the credential failure, of those whose link stayed up. */
  authReported: number;
  authEligible: number;
  abuseConnections: number;
  abuseClosedByServer: number;
  errors: string[];
}

interface LinkEffect {
  mode?: 'refuse' | 'blackhole';
  latencyMs?: number;
}


/**
 * JSON nested past the API's bound may be refused up front (400 `invalid_json`) instead of parsed: both are
 * fine, a 500, a hang or a blocked event loop is not.
 */
const NESTING_REFUSED = /"invalid_json"/;

/** What a reader must name when a peer's Redis refuses its credentials (not "Stream isn't writeable"). */
const CREDENTIAL_ERROR = /WRONGPASS|NOAUTH|NOPERM|auth|password|permission/i;

/** A sleep that `healAll` ends early. */
class Heal {
  private healed = false;
  private readonly waiters = new Set<() => void>();

  get done(): boolean {
    return this.healed;
  }

  sleep(ms: number): Promise<void> {
    if (this.healed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  now(): void {
    this.healed = true;
    for (const wake of [...this.waiters]) wake();
  }
}

export class FaultRunner {
  readonly log: FaultLog = {
    timeline: [], poisonEntries: 0, poisonRejections: 0, poisonDeliveries: 0, wipes: 0, maxWipeWaitMs: 0, flushes: 0, snapshotRestores: 0, refillMs: [],
    bigRecordsSent: 0, bigRecordsAcked: 0, stampEntries: 0, stampRefusals: 0, stampDeliveries: 0, authFaults: 0, authReported: 0, authEligible: 0,
    abuseConnections: 0, abuseClosedByServer: 0, errors: [],
  };
  private readonly effects = new Map<string, Set<LinkEffect>>();
  private nodeLock: Promise<unknown> = Promise.resolve();
  private started = 0;
  private poisonCounter = 0;
  private readonly heal = new Heal();
  private playing: Promise<void> = Promise.resolve();
  private readonly background: Promise<void>[] = [];
  private lossFailed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly workload: Workload,
    private readonly oracle: Oracle,
  ) {}

  /**
   * Plays the schedule; resolves when every fault has been applied and healed again — by its own window or
   * by `healAll`, which ends every window still open. Faults not started by then are skipped.
   */
  run(schedule: readonly ScheduledFault[]): Promise<void> {
    this.playing = this.play(schedule);
    return this.playing;
  }

  private async play(schedule: readonly ScheduledFault[]): Promise<void> {
    this.started = Date.now();
    await Promise.all(
      schedule.map(async ({ atMs, fault }) => {
        await this.heal.sleep(Math.max(0, this.started + atMs - Date.now()));
        if (this.heal.done) return;
        try {
          await this.apply(fault);
        } catch (err) {
          const message = `${describeFault(fault)}: ${err instanceof Error ? err.message : String(err)}`;
          this.log.errors.push(message);
          this.note(`FAILED ${message}`);
        }
      }),
    );
  }

  private note(line: string): void {
    this.log.timeline.push(`  t+${((Date.now() - this.started) / 1000).toFixed(1).padStart(5)}s  ${line}`);
  }

  private withNodeLock<T>(action: () => Promise<T>): Promise<T> {
    const run = this.nodeLock.then(action);
    this.nodeLock = run.catch(() => undefined);
    return run;
  }

  private async apply(f: Fault): Promise<void> {
    const nodes = this.cluster.nodes;
    switch (f.kind) {
      case 'link-cut':
        return this.linkWindow([[f.reader, f.owner]], { mode: 'refuse' }, f.durationMs, describeFault(f));
      case 'link-blackhole':
        return this.linkWindow([[f.reader, f.owner]], { mode: 'blackhole' }, f.durationMs, describeFault(f));
      case 'link-slow':
        return this.linkWindow([[f.reader, f.owner]], { latencyMs: f.latencyMs }, f.durationMs, describeFault(f));
      case 'partition': {
        const [a, b] = f.groups as [number[], number[]];
        const links: [number, number][] = [];
        for (const x of a) for (const y of b) links.push([x, y], [y, x]);
        return this.linkWindow(links, { mode: f.mode }, f.durationMs, describeFault(f));
      }
      case 'redis-restart':
        return this.withNodeLock(async () => {
          this.note(describeFault(f));
          const server = nodes[f.node]!.server;
          // Writes in flight while the Redis goes away.
          const fired = this.workload.fire(f.node, 6);
          await sleep(2);
          if (f.how === 'sigkill') await server.kill();
          await server.restart({ keepData: true });
          await fired;
          this.note(`node-${f.node}'s Redis is back`);
        });
      case 'redis-wipe':
        return this.withNodeLock(() => this.wipe(nodes[f.node]!));
      case 'daemon-kill':
        return this.withNodeLock(async () => {
          const node = nodes[f.node]!;
          this.note(describeFault(f));
          // Killed with requests in flight (their outcome becomes unknown); the gate closes right after.
          const fired = this.workload.fire(f.node, 6);
          await sleep(2);
          const killed = node.killDaemon();
          this.workload.close(node.index);
          await killed;
          await fired;
          const g = new Rng(f.garbageSeed);
          // At least one page: SQLite takes a file shorter than its header for a new, empty database.
          const garbage = Buffer.from(Array.from({ length: g.int(512, 8192) }, () => g.int(0, 255)));
          if (f.cursor !== 'keep') this.cluster.damageCursorFile(node, f.cursor, garbage);
          await sleep(f.downMs);
          await node.startDaemon();
          this.workload.openGate(node.index);
          this.note(`node-${f.node}'s daemon restarted`);
        });
      case 'poison':
        return this.poison(f);
      case 'stream-trim': {
        const readers = nodes.filter((n) => n.index !== f.node).map((n) => [n.index, f.node] as [number, number]);
        const node = nodes[f.node]!;
        const trim = (async () => {
          await this.heal.sleep(f.durationMs / 2);
          if (this.heal.done) return;
          const removed = await node.redis.xtrim(node.keys.stream, 'MAXLEN', 0);
          this.note(`XTRIM node-${f.node}'s stream: ${removed} entries removed past its readers' cursors`);
        })();
        await Promise.all([this.linkWindow(readers, { mode: 'refuse' }, f.durationMs, describeFault(f)), trim]);
        return;
      }
      case 'big-burst':
        return this.bigBurst(f);
      case 'hostile-stamps':
        return this.hostileStamps(f);
      case 'redis-flushall':
      case 'snapshot-restore':
        return this.localLoss(f);
      case 'peer-auth':
        return this.withNodeLock(() => this.peerAuth(f));
      case 'http-abuse':
        return this.httpAbuse(f);
      case 'memory-pressure': {
        const node = nodes[f.node]!;
        const info = await node.redis.info('memory');
        const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
        // used/maxmemory ≈ 0.87: above the chaos configs' memory_threshold (0.8), below maxmemory itself.
        const max = Math.ceil(used / 0.87);
        await node.redis.config('SET', 'maxmemory', String(max));
        this.note(`${describeFault(f)} (used ${used}, maxmemory ${max})`);
        await this.heal.sleep(f.durationMs);
        await node.redis.config('SET', 'maxmemory', '0');
        this.note(`node-${f.node}'s maxmemory lifted`);
        return;
      }
    }
  }

  /**
   * Poison entries go in while every link reading the node passes (so the readers meet them before the capped
   * stream moves on); then the runner waits, bounded, for every reader to log their rejection. A reader may
   * still miss some legitimately (a link cut or the stream trimmed meanwhile): counted, not failed. Accepting
   * one would put a poison/ key in the store, which the oracle refuses.
   */
  private async poison(f: Extract<Fault, { kind: 'poison' }>): Promise<void> {
    const node = this.cluster.nodes[f.node]!;
    const counted = await this.inject(node, describeFault(f), f.entries.map((kind) => this.poisonFields(kind, node)));
    this.log.poisonEntries += counted.entries;
    this.background.push(counted.done.then(({ logged, pairs }) => {
      this.log.poisonRejections += logged;
      this.log.poisonDeliveries += pairs;
      this.note(`poison in node-${f.node}'s stream: ${logged} of ${pairs} (entry, reader) pairs rejected and logged`);
    }));
  }

  /**
   * Hostile stamps, injected like poison. What a reader must do is the clock rule and the oracle's (the keys
   * never exist, the forged DEL never wins, no clock moves ahead); the log lines naming each entry are counted.
   */
  private async hostileStamps(f: Extract<Fault, { kind: 'hostile-stamps' }>): Promise<void> {
    const node = this.cluster.nodes[f.node]!;
    const fields = f.entries.map((kind) => {
      const key = kind === 'year_2100_del' ? this.workload.keyAt(f.delKey) : `poison/${node.id}/${++this.poisonCounter}/${kind}`;
      return hostileStampFields(kind, node.id, key, this.poisonCounter);
    });
    const counted = await this.inject(node, `${describeFault(f)}: ${f.entries.map(describeStampKind).join('; ')}`, fields);
    this.log.stampEntries += counted.entries;
    this.background.push(counted.done.then(({ logged, pairs }) => {
      this.log.stampRefusals += logged;
      this.log.stampDeliveries += pairs;
      this.note(`hostile stamps in node-${f.node}'s stream: ${logged} of ${pairs} (entry, reader) pairs logged by entry id`);
    }));
  }

  /**
   * XADDs raw entries into `node`'s stream once its readers are ready; `done` counts the readers' log lines
   * (callers put it in `background`: the schedule, and healing, do not wait for it).
   */
  private async inject(node: ClusterNode, what: string, entries: (string | Buffer)[][]): Promise<{ entries: number; done: Promise<{ logged: number; pairs: number }> }> {
    const readers = this.cluster.nodes.filter((n) => n !== node);
    const linkPasses = (r: ClusterNode): boolean => ![...(this.effects.get(`${r.index}<${node.index}`) ?? [])].some((e) => e.mode !== undefined);
    // …and every reader that can reach it is connected and caught up (at ~100 entries/s a stream capped near 50
    // entries holds a second or two: a reader still reconnecting would find the poison trimmed away).
    const readersReady = async (): Promise<boolean> => {
      const reachable = readers.filter(linkPasses);
      if (reachable.length === 0) return false;
      for (const r of reachable) {
        if (!r.daemon) return false;
        const status = (await r.status()) as { peers: { peer_id: string; connected: boolean; circuit: string; catching_up: boolean; lag_events: number }[] };
        const p = status.peers.find((x) => x.peer_id === node.id);
        if (!p || !p.connected || p.circuit !== 'closed' || p.catching_up || p.lag_events > 20) return false;
      }
      return true;
    };
    await waitFor(async () => this.heal.done || (await readersReady()), { what: 'readers of the poisoned node ready', timeoutMs: 20_000, intervalMs: 100 }).catch(() => undefined);
    this.note(what);
    const ids: string[] = [];
    for (const fields of entries) {
      // The node's Redis may be under a memory-pressure fault: its XADD is refused (OOM) until that lifts.
      const add = async (): Promise<string | null | false> => {
        try {
          return await node.redis.xadd(node.keys.stream, '*', ...fields);
        } catch (err) {
          if (err instanceof Error && /^OOM /.test(err.message)) return false;
          throw err;
        }
      };
      const id = await waitFor(add, { what: `an XADD into ${node.id}'s stream accepted (not OOM)`, timeoutMs: 20_000, intervalMs: 100 });
      if (id) ids.push(id);
    }
    // A reader's log line about the entry, by its id: a rejection, or a far-future stamp refused for now.
    const logged = (msg: string): boolean => msg.startsWith('rejected CDC entry') || msg.startsWith('refused a change stamped too far ahead');
    const loggedBy = (reader: ClusterNode): number => {
      const seen = new Set(reader.allLogs().filter((l) => logged(l.msg) && l.peer_id === node.id).map((l) => String(l.entry_id)));
      return ids.filter((id) => seen.has(id)).length;
    };
    const done = (async () => {
      await waitFor(() => readers.every((r) => loggedBy(r) === ids.length), { what: 'injected entries logged by every reader', timeoutMs: 15_000, intervalMs: 200 }).catch(() => undefined);
      return { logged: readers.reduce((sum, r) => sum + loggedBy(r), 0), pairs: ids.length * readers.length };
    })();
    return { entries: ids.length, done };
  }

  /** Waits for the background bookkeeping (poison rejection counts). */
  async settle(): Promise<void> {
    await Promise.all(this.background);
  }

  /**
   * The data-loss rule: a node's data is destroyed only once every acknowledged write would survive it. With the
   * node's gate closed and its requests settled, wait until for every key some OTHER node holds a stamp at least
   * as great as the greatest acknowledged one (the write itself or something that beats it); then `destroy`.
   * Afterwards the gate reopens and the node must refill, bounded, with its daemon running (never restarted
   * here: a daemon that exits on its own is reported by the suite).
   */
  private async underDataLossRule(node: ClusterNode, kind: 'wipe' | 'flushall' | 'snapshot-restore', what: string, destroy: () => Promise<void>): Promise<void> {
    if (this.lossFailed) {
      // The run has failed already; waiting out the same bounds again would only make it longer.
      this.note(`${what}: skipped, an earlier data loss was not repaired`);
      return;
    }
    try {
      await this.dataLoss(node, kind, what, destroy);
    } catch (err) {
      this.lossFailed = true;
      throw err;
    }
  }

  private async dataLoss(node: ClusterNode, kind: 'wipe' | 'flushall' | 'snapshot-restore', what: string, destroy: () => Promise<void>): Promise<void> {
    this.note(`${what}: waiting until its acknowledged writes are on another node`);
    const t0 = Date.now();
    this.workload.close(node.index);
    await this.workload.drain(node.index);
    const others = this.cluster.nodes.filter((n) => n !== node);
    let highWater = this.oracle.ackedHighWater();
    try {
      await waitFor(async () => {
        highWater = this.oracle.ackedHighWater();
        const keys = [...highWater.keys()];
        const states = await Promise.all(others.map((n) => n.stamps(keys)));
        return keys.every((k) => states.some((s) => {
          const st = s.get(k);
          return st !== undefined && compareStamps(st, highWater.get(k)!) >= 0;
        }));
      }, { what: `node-${node.index}'s acknowledged writes replicated before the ${kind}`, timeoutMs: 90_000, intervalMs: 200 });
    } catch (err) {
      this.workload.openGate(node.index);
      throw err;
    }
    this.log.maxWipeWaitMs = Math.max(this.log.maxWipeWaitMs, Date.now() - t0);
    const daemon = node.daemon;
    const lostAt = Date.now();
    await destroy();
    this.workload.openGate(node.index);
    this.note(`${what}: done (waited ${lostAt - t0} ms for replication first)`);
    const { ms, lost } = await waitForRefill(node, highWater, lostAt);
    if (node.daemon !== daemon) throw new Error(`${node.id}'s daemon was replaced during the refill`);
    this.log.refillMs.push({ kind, ms });
    this.note(`${node.id} refilled ${ms} ms after the ${kind} (${lost} of ${highWater.size} acknowledged keys missing or older at first look), same daemon`);
  }

  private async wipe(node: ClusterNode): Promise<void> {
    await this.underDataLossRule(node, 'wipe', describeFault({ kind: 'redis-wipe', node: node.index }), async () => {
      await node.server.restart({ keepData: false });
      this.log.wipes++;
    });
  }

  /** FLUSHALL, or a restart from an AOF snapshot taken `ageMs` earlier: local data lost under a running daemon. */
  private async localLoss(f: Extract<Fault, { kind: 'redis-flushall' | 'snapshot-restore' }>): Promise<void> {
    const node = this.cluster.nodes[f.node]!;
    if (f.kind === 'redis-flushall') {
      return this.withNodeLock(() => this.underDataLossRule(node, 'flushall', describeFault(f), async () => {
        await flushAll(node);
        this.log.flushes++;
      }));
    }
    const snapshot = await this.withNodeLock(async () => snapshotAof(node, this.cluster.dir));
    this.note(`snapshot of ${node.id}'s AOF taken`);
    await this.heal.sleep(f.ageMs);
    return this.withNodeLock(() => this.underDataLossRule(node, 'snapshot-restore', describeFault(f), async () => {
      await restoreAof(node, snapshot);
      this.log.snapshotRestores++;
    }));
  }

  /**
   * A burst of PUTs at the payload limit to one node, through HTTP like any write (acknowledged ones must
   * converge), optionally with every link reading the node cut meanwhile, so the readers meet the burst as
   * one backlog on healing — or, when the capped stream was trimmed past them, as one cold-path repair.
   */
  private async bigBurst(f: Extract<Fault, { kind: 'big-burst' }>): Promise<void> {
    const node = this.cluster.nodes[f.node]!;
    const rng = new Rng(f.seed);
    const readers = this.cluster.nodes.filter((n) => n !== node).map((n) => [n.index, node.index] as [number, number]);
    const cut = f.backlog ? this.linkWindow(readers, { mode: 'refuse' }, f.durationMs, describeFault(f)) : (this.note(describeFault(f)), Promise.resolve());
    const sizes = burstSizes(rng, f.count, MAX_PAYLOAD_BYTES);
    const compressible = new Set(rng.shuffle(sizes.map((_, i) => i)).slice(0, f.compressible));
    let acked = 0;
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < sizes.length && !this.heal.done) {
        // A daemon the schedule is restarting meanwhile gets the rest of the burst when it is back.
        await waitFor(() => node.daemon !== null || this.heal.done, { what: `${node.id}'s daemon back`, timeoutMs: 10_000, intervalMs: 100 }).catch(() => undefined);
        if (next >= sizes.length || this.heal.done) break;
        const i = next++;
        // Its own generator per record: the senders take records in an order that depends on timing.
        const body = bigBody(rng.fork(`body-${i}`), sizes[i]!, `big:${f.seed}:${i}`, compressible.has(i));
        this.log.bigRecordsSent++;
        if ((await this.workload.put(node, bigKey(i), body, 'application/octet-stream', 15_000)) === 200) acked++;
      }
    };
    await Promise.all([sender(), sender(), sender()]);
    this.log.bigRecordsAcked += acked;
    this.note(`big-record burst to ${node.id}: ${acked} of ${sizes.length} acknowledged`);
    await cut;
  }

  /**
   * The peer user's credentials refused by one node's Redis (password changed, or its ACL stripped), its open
   * connections killed. Every reader whose link stayed up must name the cause in /status (`last_error`, what
   * `replication-engine status` shows) while it lasts; after the restore, the suite's final link check wants every link healthy again.
   */
  private async peerAuth(f: Extract<Fault, { kind: 'peer-auth' }>): Promise<void> {
    if (this.heal.done) {
      // It waited for the node lock until the heal: the final links check now wants the peer user accepted.
      this.note(`${describeFault(f)}: skipped, the mesh is healing`);
      return;
    }
    const owner = this.cluster.nodes[f.owner]!;
    const readers = this.cluster.nodes.filter((n) => n !== owner);
    const linkPasses = (r: ClusterNode): boolean => ![...(this.effects.get(`${r.index}<${owner.index}`) ?? [])].some((e) => e.mode !== undefined);
    this.note(describeFault(f));
    const daemons = new Map(readers.map((r) => [r, r.daemon]));
    const eligible = new Set(readers.filter((r) => r.daemon && linkPasses(r)));
    if (f.how === 'password') await owner.redis.call('ACL', 'SETUSER', PEER_USER, 'resetpass', '>not-the-chaos-peer-secret');
    else await owner.redis.call('ACL', 'SETUSER', PEER_USER, '-@all');
    await owner.redis.call('CLIENT', 'KILL', 'USER', PEER_USER).catch(() => undefined);
    const seen = new Map<ClusterNode, Set<string>>(readers.map((r) => [r, new Set()]));
    const reported = new Set<ClusterNode>();
    // A reader whose link had just healed from another fault may be waiting out its reconnect backoff: it
    // makes an attempt within one reconnect cap. The refusal lasts until every reader still eligible has named
    // it, or the fault's duration plus that cap (and a margin for the status poll) has passed.
    const started = Date.now();
    const latest = f.durationMs + DEFAULTS.peerReconnectMaxMs + 2_000;
    let over = false;
    const windowEnd = this.heal.sleep(f.durationMs).then(() => {
      over = true;
    });
    const pending = (): boolean => [...eligible].some((r) => !reported.has(r)) && Date.now() - started < latest && !this.heal.done;
    while (!over || pending()) {
      for (const r of readers) {
        if (!linkPasses(r) || r.daemon !== daemons.get(r)) eligible.delete(r);
        if (!r.daemon) continue;
        try {
          const status = (await r.status()) as { peers: { peer_id: string; last_error: string | null }[] };
          const err = status.peers.find((p) => p.peer_id === owner.id)?.last_error;
          if (err) {
            seen.get(r)!.add(err.slice(0, 160));
            if (CREDENTIAL_ERROR.test(err)) reported.add(r);
          }
        } catch {
          // a reader restarting: not this fault's business
        }
      }
      await (over ? sleep(200) : Promise.race([windowEnd, sleep(200)]));
    }
    await owner.redis.call('ACL', 'SETUSER', PEER_USER, 'on', 'resetpass', `>${PEER_PASSWORD}`, '~*', '&*', '+@all');
    this.log.authFaults++;
    // A refusal the heal ended early proves nothing of the readers that had not named it yet: they may
    // not have made their attempt (a reconnect backoff of up to DEFAULTS.peerReconnectMaxMs).
    const excused = this.heal.done ? [...eligible].filter((r) => !reported.has(r)) : [];
    if (excused.length > 0) this.note(`${owner.id}'s credential fault ended by the heal after ${Date.now() - started} ms: ${excused.map((r) => r.id).join(', ')} not held to the rule`);
    const required = [...eligible].filter((r) => !excused.includes(r));
    this.log.authEligible += required.length;
    this.log.authReported += required.filter((r) => reported.has(r)).length;
    for (const r of required) {
      if (!reported.has(r)) {
        this.log.errors.push(`${r.id} never named the credential failure of ${owner.id}'s Redis (${f.how}) in /status; last_error seen: ${JSON.stringify([...seen.get(r)!])}`);
      }
    }
    this.note(`${owner.id}'s Redis accepts the peer user again; ${required.filter((r) => reported.has(r)).length} of ${required.length} readers had named the cause`);
  }

  /**
   * Slow and stalled HTTP clients against one node for a window, plus a few hostile but valid bodies (JSON nested
   * as deep as the payload limit allows: acknowledged like any write, or refused as 400 `invalid_json`). The abused node must keep answering the
   * workload (the /health prober watches the rest).
   */
  private async httpAbuse(f: Extract<Fault, { kind: 'http-abuse' }>): Promise<void> {
    const node = this.cluster.nodes[f.node]!;
    const daemon = node.daemon;
    if (!daemon) {
      this.note(`${describeFault(f)}: skipped, the daemon is down`);
      return;
    }
    const rng = new Rng(f.seed);
    const plan = abusePlan(rng);
    this.note(`${describeFault(f)}: ${JSON.stringify(plan)}`);
    const sent0 = this.workload.sentTo[node.index]!;
    const answered0 = this.workload.answeredBy[node.index]!;
    const abuse = abuseHttp(node, plan, MAX_PAYLOAD_BYTES, rng.fork('clients'), this.heal.sleep(f.durationMs));
    const depth = Math.floor((MAX_PAYLOAD_BYTES - 16) / 2);
    const bodies = rng.fork('nested');
    for (let i = bodies.int(1, 3); i > 0 && !this.heal.done; i--) await this.workload.put(node, `nest/${node.index}/${i}`, nestedJson(depth, bodies.u32()), 'application/json', 15_000, NESTING_REFUSED);
    const r = await abuse;
    this.log.abuseConnections += r.opened;
    this.log.abuseClosedByServer += r.closedByServer;
    const sent = this.workload.sentTo[node.index]! - sent0;
    const answered = this.workload.answeredBy[node.index]! - answered0;
    if (node.daemon === daemon && node.alive && sent >= 3 && answered === 0) {
      this.log.errors.push(`${node.id} answered none of the ${sent} requests sent to it during the HTTP abuse`);
    }
    this.note(`HTTP abuse of ${node.id} over: ${r.opened} connections (${r.closedByServer} closed by the daemon, ${r.refused} refused); ${answered} answers to the workload meanwhile, ${sent} requests sent`);
  }

  private async linkWindow(links: [number, number][], effect: LinkEffect, durationMs: number, what: string): Promise<void> {
    this.note(what);
    const mine: LinkEffect[] = links.map(() => ({ ...effect }));
    links.forEach(([r, o], i) => this.addEffect(r, o, mine[i]!));
    await this.heal.sleep(durationMs);
    links.forEach(([r, o], i) => this.removeEffect(r, o, mine[i]!));
    this.note(`healed: ${what}`);
  }

  private addEffect(reader: number, owner: number, effect: LinkEffect): void {
    const key = `${reader}<${owner}`;
    let set = this.effects.get(key);
    if (!set) this.effects.set(key, (set = new Set()));
    set.add(effect);
    this.recompute(reader, owner);
  }

  private removeEffect(reader: number, owner: number, effect: LinkEffect): void {
    this.effects.get(`${reader}<${owner}`)?.delete(effect);
    this.recompute(reader, owner);
  }

  /** Overlapping faults on one link: the most severe mode and the largest latency win. */
  private recompute(reader: number, owner: number): void {
    const proxy = this.cluster.link(reader, owner);
    const active = [...(this.effects.get(`${reader}<${owner}`) ?? [])];
    const mode = active.some((e) => e.mode === 'refuse') ? 'refuse' : active.some((e) => e.mode === 'blackhole') ? 'blackhole' : 'pass';
    const latency = Math.max(0, ...active.map((e) => e.latencyMs ?? 0));
    const before = proxy.mode;
    proxy.setMode(mode);
    proxy.setLatency(latency);
    // A cut resets what is open; refusing only new connections would leave the old ones working.
    if (mode === 'refuse' && before !== 'refuse') proxy.cutConnections();
  }

  /**
   * Everything back to normal: every open window ends (links pass, no latency, no memory cap), node actions
   * in progress finish (a killed daemon is restarted, a wipe completes), then every link is reset to pass.
   */
  async healAll(): Promise<void> {
    this.note('healing everything');
    this.heal.now();
    await this.playing;
    this.effects.clear();
    for (const { proxy } of this.cluster.allLinks()) {
      proxy.setMode('pass');
      proxy.setLatency(0);
    }
    await this.nodeLock;
    await Promise.all(this.cluster.nodes.map((n) => n.redis.config('SET', 'maxmemory', '0')));
  }

  private poisonFields(kind: PoisonKind, node: ClusterNode): (string | Buffer)[] {
    const n = ++this.poisonCounter;
    const key = `poison/${node.id}/${n}/${kind}`;
    const now = Date.now();
    const content = Buffer.from(JSON.stringify({ poison: kind, n }));
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const valid = encodeCdcEntry({
      op: 'PUT', key, content, hash: sha(content), contentType: 'json', version: 1, updatedAt: now, hlc: formatHlc(now, 0), origin: node.id,
    });
    const meta = valid[9]!;
    switch (kind) {
      case 'bad_zstd': {
        const data = Buffer.concat([ZSTD_MAGIC, Buffer.from('definitely not a zstd frame body')]);
        return ['op', 'PUT', 'key', key, 'hash', sha(data), 'data', data, 'meta', meta];
      }
      case 'bad_hash':
        return ['op', 'PUT', 'key', key, 'hash', sha(Buffer.from('something else')), 'data', content, 'meta', meta];
      case 'missing_data':
        return ['op', 'PUT', 'key', key, 'hash', sha(content), 'meta', meta];
      case 'missing_key':
        return ['op', 'PUT', 'hash', sha(content), 'data', content, 'meta', meta];
      case 'unknown_op':
        return ['op', 'PATCH', 'key', key, 'hash', sha(content), 'data', content, 'meta', meta];
      case 'bad_meta':
        return ['op', 'PUT', 'key', key, 'hash', sha(content), 'data', content, 'meta', '{"content_type":"json","version":'];
      case 'bad_stamp':
        return ['op', 'PUT', 'key', key, 'hash', sha(content), 'data', content, 'meta',
          JSON.stringify({ content_type: 'json', version: 1, updated_at: now, hlc: formatHlc(now, 0) })];
      case 'zstd_over_limit': {
        // One byte past the limit once inflated: the boundary itself.
        const size = MAX_PAYLOAD_BYTES + 1;
        return ['op', 'PUT', 'key', key, 'hash', sha(Buffer.alloc(size)), 'data', streamedZeroFrame(size), 'meta', meta];
      }
      case 'zstd_bomb': {
        // 2 MiB of zeros in a few hundred bytes; the chaos configs allow 1 MiB.
        const data = streamedZeroFrame(2 * 1024 * 1024);
        return ['op', 'PUT', 'key', key, 'hash', sha(Buffer.alloc(2 * 1024 * 1024)), 'data', data, 'meta', meta];
      }
      case 'bad_key':
        return ['op', 'PUT', 'key', Buffer.from([0x70, 0xff, 0xfe, 0x2f]), 'hash', sha(content), 'data', content, 'meta', meta];
      case 'stamp_past_2_53':
      case 'stamp_max_digits':
      case 'stamp_far_future': {
        const hlc = { stamp_past_2_53: '9007199254740993-00000', stamp_max_digits: '9999999999999999-00000', stamp_far_future: formatHlc(Date.UTC(2100, 0, 1), 0) }[kind];
        return ['op', 'PUT', 'key', key, 'hash', sha(content), 'data', content, 'meta',
          JSON.stringify({ content_type: 'json', version: 1, updated_at: now, hlc, origin: node.id })];
      }
    }
  }
}
