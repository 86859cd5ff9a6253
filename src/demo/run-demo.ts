/**
 * `replication-engine demo`: three nodes on this machine, each with its own redis-server,
 * in a full mesh — the product's real node (`ReplicationNode`: store + engine + HTTP),
 * configured through the real configuration parser. Three acts:
 *
 *   1. all connected: mixed writes on every node, replicated by the hot path;
 *   2. berlin cut off (its links go through fault proxies): writes go on everywhere, circuits
 *      open, london's and paris's short streams are trimmed past berlin's cursors;
 *   3. healed, writes stopped: the hot path resumes, gaps trigger cold-path repairs (plus
 *      `repairNow()` calls), until every node holds the same records and Merkle root.
 *
 * Resolves to an exit code (0 converged, 1 not converged or failed, 130 interrupted) and
 * never leaves a redis-server or a temp dir behind, whatever happens.
 */
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { stringify } from 'yaml';
import { ReplicationNode } from '../daemon/node.js';
import { createLogger } from '../observability/logger.js';
import { colorAllowed } from '../observability/color.js';
import { compareNodes, describeDivergence, readNodeData, type ConvergenceReport } from './convergence.js';
import { DemoError } from './demo-error.js';
import { CUT_NODE, NODE_NAMES, nodeConfig, nodeConfigInput, type NodeName } from './mesh-config.js';
import { displayName, snapshotNode, type NodeView } from './node-snapshot.js';
import { FULL_PROFILE, QUICK_PROFILE, type DemoProfile } from './profile.js';
import { ProgressView, formatElapsed, formatLinkTable } from './progress-view.js';
import { findOnPath, REDIS_INSTALL_HINTS, RedisLauncher, type RedisProcess } from './redis-launcher.js';
import { StoryEvents } from './story-events.js';
import { Teardown } from './teardown.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { abortable, atMost, delay } from './waiting.js';
import { applyOps, WorkloadPlanner, type TickMix } from './workload.js';
import { errorMessage } from '../errors.js';

export interface DemoOptions {
  /** The short profile (CI): under ~20 s. */
  quick?: boolean;
  /** Keep the temp dir (configs, logs, cursor files) and print its path. */
  keep?: boolean;
  /** Where the demo writes; default stdout. */
  out?: NodeJS.WritableStream;
  /** Redraw live lines in place; default: whether `out` is a terminal. */
  tty?: boolean;
  /** Colour story lines; default: a terminal and NO_COLOR unset. */
  color?: boolean;
  /** Aborting it (Ctrl-C) ends the demo early, cleanly: exit code 130. */
  signal?: AbortSignal;
  /** Workload seed, for a reproducible run. */
  seed?: number;
  /** PATH to look for redis-server in; default process.env.PATH. */
  pathEnv?: string;
}

export interface DemoResult {
  exitCode: number;
  /** The temp dir; removed by the time this resolves unless `keep`. Null if none was made. */
  tempDir: string | null;
  /** The redis-servers it started; all stopped by the time this resolves. */
  redis: { name: string; pid: number; port: number }[];
  /** The final comparison, when the demo got that far. */
  report: ConvergenceReport | null;
}

export const EXIT_INTERRUPTED = 130; // 128 + SIGINT, what shells expect of a Ctrl-C'd command

const REFRESH_MS = 500;
const REPAIR_EVERY_MS = 1000;
const CONVERGE_POLL_MS = 250;
const NODE_STOP_DEADLINE_MS = 3000;

interface DemoNode {
  name: NodeName;
  redis: RedisProcess;
  node: ReplicationNode;
  writes: number;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? process.stdout;
  const say = (line = ''): void => {
    out.write(`${line}\n`);
  };
  const redisServer = findOnPath('redis-server', options.pathEnv);
  if (redisServer === null) {
    say('redis-server was not found on PATH: the demo starts three local redis-servers (Redis 7 or later).');
    for (const line of REDIS_INSTALL_HINTS) say(`  ${line}`);
    return { exitCode: 1, tempDir: null, redis: [], report: null };
  }

  // One signal for every way the demo can be cut short: the caller's (Ctrl-C), or the output
  // going away (`demo | head`: EPIPE) — then there is no one to show the rest to.
  const stop = new AbortController();
  const onCallerAbort = (): void => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  // Left attached: a write error can still arrive after the demo returns, and must not crash.
  out.on('error', () => stop.abort());

  const tempDir = await mkdtemp(path.join(os.tmpdir(), 're-demo-'));
  // Last resort on an abrupt exit (second Ctrl-C): the launcher SIGKILLs its servers, this removes the dir.
  const removeTempDirSync = (): void => {
    if (!options.keep) rmSync(tempDir, { recursive: true, force: true });
  };
  process.on('exit', removeTempDirSync);
  const run = new DemoRun(redisServer, tempDir, out, options, stop.signal);
  let exitCode: number;
  try {
    exitCode = await run.play();
  } catch (err) {
    run.view.close();
    if (stop.signal.aborted) {
      // Whatever error the abort surfaced as (a write cut short, a start abandoned), it is an interrupt.
      say('interrupted: stopping the nodes and redis-servers');
      exitCode = EXIT_INTERRUPTED;
    } else {
      const unexpected = err instanceof DemoError ? '' : ' (unexpected)';
      say(`demo failed${unexpected}: ${errorMessage(err)}`);
      exitCode = 1;
    }
  }
  const problems = await run.teardown.run();
  for (const p of problems) say(`cleanup: ${p.step}: ${p.error}`);
  if (options.keep) say(`kept ${tempDir}: each node's configuration (*.yaml), log (*.log) and cursor file; redis-<node>/redis.log`);
  else await rm(tempDir, { recursive: true, force: true });
  process.off('exit', removeTempDirSync);
  options.signal?.removeEventListener('abort', onCallerAbort);
  return { exitCode, tempDir, redis: run.redisProcesses, report: run.report };
}

class DemoRun {
  readonly teardown = new Teardown();
  readonly view: ProgressView;
  report: ConvergenceReport | null = null;
  /** Links still down when the wait for convergence ended. */
  private downAtEnd: string[] = [];
  readonly redisProcesses: { name: string; pid: number; port: number }[] = [];
  private readonly profile: DemoProfile;
  private readonly story = new StoryEvents();
  private readonly startedAt = Date.now();
  private readonly planner: WorkloadPlanner;
  private readonly nodes: DemoNode[] = [];
  private readonly proxies: FaultProxy[] = [];

  constructor(
    private readonly redisServer: string,
    private readonly tempDir: string,
    private readonly out: NodeJS.WritableStream,
    private readonly options: DemoOptions,
    private readonly signal: AbortSignal,
  ) {
    this.profile = options.quick ? QUICK_PROFILE : FULL_PROFILE;
    const tty = options.tty ?? (out as { isTTY?: boolean }).isTTY === true;
    const color = options.color ?? (tty && colorAllowed({ isTTY: true }));
    this.view = new ProgressView({ out, tty, color, startedAt: this.startedAt });
    this.planner = new WorkloadPlanner({ seed: options.seed ?? 20_241_125, keySpace: this.profile.keySpace, hotKeys: this.profile.hotKeys });
  }

  async play(): Promise<number> {
    await this.setUp();
    const stopRefresh = this.startRefreshing();
    this.teardown.add('live view', () => stopRefresh({ final: false }));
    const p = this.profile;

    this.view.event('act 1/3 — all connected: puts, deletes, and hot keys written on all nodes at once', 'phase');
    await this.write(p.connectedMs, () => this.mix(p.putsPerTick));

    for (const proxy of this.proxies) proxy.cutOff();
    this.view.event(`act 2/3 — ${CUT_NODE} cut off: its links reset; writes go on (london: a bulk import)`, 'phase');
    await this.write(p.cutMs, (name) => {
      if (name === CUT_NODE) return this.mix(p.cutOffPutsPerTick);
      return this.mix(p.putsPerTick + (name === 'london' ? p.londonBurstPerTick : 0));
    });

    for (const proxy of this.proxies) proxy.setMode('pass');
    const healedAt = Date.now();
    this.story.reportRepairs = true;
    this.view.event('act 3/3 — healed, writes stopped: hot path resumes, cold path repairs what streams lost', 'phase');
    const stopRepairs = this.driveRepairs();
    let report: ConvergenceReport;
    try {
      report = await this.awaitConvergence(healedAt + p.convergeTimeoutMs);
    } finally {
      await stopRepairs();
    }
    this.report = report;
    await stopRefresh({ final: true });
    this.view.close();
    return this.verdict(report, Date.now() - healedAt);
  }

  // ── set-up ─────────────────────────────────────────────────────────────────

  private async setUp(): Promise<void> {
    const launcher = new RedisLauncher(this.redisServer);
    const started = await Promise.allSettled(NODE_NAMES.map((name) => launcher.start(name, path.join(this.tempDir, `redis-${name}`))));
    const servers = new Map<NodeName, RedisProcess>();
    started.forEach((s, i) => {
      if (s.status !== 'fulfilled') return;
      const name = NODE_NAMES[i] as NodeName;
      servers.set(name, s.value);
      this.redisProcesses.push({ name, pid: s.value.pid, port: s.value.port });
    });
    this.teardown.add('redis-servers', async () => {
      await Promise.all([...servers.values()].map((r) => r.stop()));
    });
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const redisOf = (name: NodeName): RedisProcess => servers.get(name) as RedisProcess;

    this.teardown.add('proxies', async () => {
      await Promise.all(this.proxies.map((p) => p.close()));
    });
    // Every link to or from the node to be cut goes through a proxy: cutting them all is a full partition.
    const routes = new Map<string, string>();
    for (const from of NODE_NAMES) {
      for (const to of NODE_NAMES) {
        if (from === to) continue;
        if (from !== CUT_NODE && to !== CUT_NODE) {
          routes.set(`${from}>${to}`, redisOf(to).url);
          continue;
        }
        const proxy = await startFaultProxy({ host: '127.0.0.1', port: redisOf(to).port });
        this.proxies.push(proxy);
        routes.set(`${from}>${to}`, proxy.url());
      }
    }

    const logs: WriteStream[] = [];
    this.teardown.add('log files', async () => {
      await Promise.all(logs.map(closeStream));
    });
    // Every start, also one an interrupt left running: it is stopped once it has started.
    const starts: Promise<ReplicationNode>[] = [];
    this.teardown.add('nodes', async () => {
      // In parallel: each stop may wait out its deadline if a batch is stuck.
      const settled = await Promise.allSettled(starts);
      await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.stop({ deadlineMs: NODE_STOP_DEADLINE_MS }) : undefined)));
    });
    for (const name of NODE_NAMES) {
      const spec = {
        name,
        redisUrl: redisOf(name).url,
        peers: NODE_NAMES.filter((n) => n !== name).map((peer) => ({ name: peer, redisUrl: routes.get(`${name}>${peer}`) ?? '' })),
        dir: this.tempDir,
        // The others keep short streams so that a node away for seconds falls off them (see profile.ts).
        ...(name === CUT_NODE ? {} : { cdcMaxlen: this.profile.shortStreamMaxlen }),
      };
      // A file a user can read (and run with `replication-engine run` against live redis-servers).
      await writeFile(path.join(this.tempDir, `${name}.yaml`), stringify({ replication: nodeConfigInput(spec) }));
      const log = createWriteStream(path.join(this.tempDir, `${name}.log`), { flags: 'a' });
      logs.push(log);
      // Engine logs go to a file so the screen shows the demo's story only.
      const logger = createLogger({ level: 'warn', pretty: false, destination: log });
      const start = ReplicationNode.start(nodeConfig(spec), logger);
      starts.push(start);
      const node = await abortable(start, this.signal);
      this.nodes.push({ name, redis: redisOf(name), node, writes: 0 });
    }
    this.printHeader();
  }

  private printHeader(): void {
    const say = (line: string): void => {
      this.out.write(`${line}\n`);
    };
    say(`replication-engine demo${this.profile.name === 'quick' ? ' (quick)' : ''}: three nodes, each with its own redis-server, in a full mesh`);
    for (const n of this.nodes) {
      const via = n.name === CUT_NODE ? '  (linked through proxies: to be cut off)' : '';
      say(`  ${n.name.padEnd(7)} redis 127.0.0.1:${n.redis.port}  ${n.node.http?.url ?? '(no http)'}/status${via}`);
    }
    say(`  files: ${this.tempDir}${this.options.keep ? ' (kept)' : ' (removed at the end; --keep keeps them)'}`);
    say('  applied: peer changes applied by the hot path; repaired: keys pulled by the cold path;');
    say('  root: the Merkle root (equal roots, equal data); a ← b: node a reading from peer b');
  }

  // ── the acts ───────────────────────────────────────────────────────────────

  private mix(puts: number): TickMix {
    return { puts, deletes: this.profile.deletesPerTick, hot: true };
  }

  /** Writes on every node, one round per tick, for `durationMs`. */
  private async write(durationMs: number, mixFor: (name: NodeName) => TickMix): Promise<void> {
    const { tickMs } = this.profile;
    const start = Date.now();
    for (let tick = 0; Date.now() - start < durationMs; tick++) {
      const tickStart = Date.now();
      // All nodes in the same tick: the hot key is written on three nodes at once.
      await abortable(Promise.all(this.nodes.map(async (n) => {
        try {
          n.writes += await applyOps(n.node.store, this.planner.plan(n.name, tick, mixFor(n.name)));
        } catch (err) {
          throw new DemoError('workload_failed', `a write on ${n.name} failed: ${errorMessage(err)}`, { cause: err });
        }
      })), this.signal);
      await delay(tickStart + tickMs - Date.now(), this.signal);
    }
  }

  /** After the heal: every second, a cold-path cycle on each node with each peer it can reach again. */
  private driveRepairs(): () => Promise<void> {
    let stopped = false;
    const loop = async (n: DemoNode): Promise<void> => {
      while (!stopped) {
        for (const peer of n.node.engine.status().peers) {
          if (stopped) break;
          if (!peer.connected || peer.circuit === 'open') continue;
          try {
            await n.node.engine.repairNow(peer.peer_id);
          } catch {
            // A repair failing (peer just dropped again) shows in last_repair; the next round retries.
          }
        }
        await delay(REPAIR_EVERY_MS).catch(() => undefined);
      }
    };
    const loops = Promise.all(this.nodes.map(loop));
    return async () => {
      stopped = true;
      // A repair in flight stops within its peer timeout; the engine's shutdown waits for it anyway.
      await atMost(loops, 2000);
    };
  }

  /**
   * Polls until roots and full record sets agree and the mesh is whole again (every link
   * reconnected, circuit closed, no lag), or the deadline. Only the data decides the verdict:
   * at the deadline, converged data with a link still reconnecting is a success.
   */
  private async awaitConvergence(deadline: number): Promise<ConvergenceReport> {
    for (;;) {
      const roots = await abortable(Promise.all(this.nodes.map((n) => n.node.store.merkleRoot())), this.signal);
      const last = Date.now() >= deadline;
      if (last || roots.every((r) => r === roots[0])) {
        const data = await abortable(Promise.all(this.nodes.map((n) => readNodeData(n.name, n.node.store))), this.signal);
        const report = compareNodes(data);
        if ((report.converged && this.linksDown().length === 0 && this.caughtUp()) || last) {
          this.downAtEnd = this.linksDown();
          return report;
        }
      }
      await delay(CONVERGE_POLL_MS, this.signal);
    }
  }

  /** Links not reconnected yet (or circuit not closed), as "a ← b". */
  private linksDown(): string[] {
    return this.nodes.flatMap((n) => n.node.engine.status().peers
      .filter((p) => !p.connected || p.circuit !== 'closed')
      .map((p) => `${n.name} ← ${displayName(p.peer_id)}`));
  }

  /** Every tailer at its peer's stream head, so the last picture shows the mesh at rest. */
  private caughtUp(): boolean {
    return this.nodes.every((n) => n.node.engine.status().peers.every((p) => p.lag_ms === 0 && !p.catching_up));
  }

  private async verdict(report: ConvergenceReport, sinceHealMs: number): Promise<number> {
    const say = (line: string): void => {
      this.out.write(`${line}\n`);
    };
    const views = await this.snapshots();
    say('');
    for (const line of formatLinkTable(views, this.startedAt)) say(`  ${line}`);
    const seconds = (sinceHealMs / 1000).toFixed(1);
    if (report.converged && report.root !== null) {
      say(`${formatElapsed(Date.now() - this.startedAt)} all three nodes hold the same records, ${seconds} s after the heal`);
      if (this.downAtEnd.length > 0) say(`  (still reconnecting: ${this.downAtEnd.join(', ')}; the data is complete without them)`);
      say(`converged: 3 nodes, ${report.keys} keys, root ${report.root}`);
      return 0;
    }
    say(`NOT converged ${seconds} s after the heal (limit ${this.profile.convergeTimeoutMs / 1000} s):`);
    for (const line of describeDivergence(report)) say(line);
    for (const v of views) {
      for (const p of v.peers) say(`  ${v.name} ← ${p.name}: circuit ${p.circuit}, ${p.connected ? 'connected' : 'disconnected'}, lag ${p.lagMs} ms`);
    }
    say(`  engine logs: ${this.tempDir}/<node>.log${this.options.keep ? '' : ' (use --keep to keep them)'}`);
    return 1;
  }

  // ── live view ──────────────────────────────────────────────────────────────

  private snapshots(): Promise<NodeView[]> {
    return Promise.all(this.nodes.map((n) => snapshotNode(n.name, n.node, n.writes)));
  }

  /** Refreshes the live lines and the story every REFRESH_MS; returns the stop function. */
  private startRefreshing(): (options: { final: boolean }) => Promise<void> {
    let inFlight: Promise<void> = Promise.resolve();
    let busy = false;
    let stopped = false;
    const refresh = (): void => {
      if (busy || stopped) return; // a slow read must not pile up refreshes
      busy = true;
      inFlight = this.snapshots()
        .then((views) => {
          if (stopped) return;
          for (const line of this.story.next(views)) this.view.event(line.text, line.tone);
          this.view.update(views);
        })
        .catch(() => undefined) // a store closing under a refresh at the end is not news
        .finally(() => {
          busy = false;
        });
    };
    refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return async ({ final }) => {
      if (stopped) return;
      clearInterval(timer);
      await atMost(inFlight, 1000);
      if (final) {
        // One last truthful picture before the verdict.
        try {
          const views = await this.snapshots();
          for (const line of this.story.next(views)) this.view.event(line.text, line.tone);
          this.view.update(views, { force: true });
        } catch {
          // the verdict says what matters
        }
      }
      stopped = true;
    };
  }
}

async function closeStream(stream: WriteStream): Promise<void> {
  stream.end();
  await finished(stream).catch(() => undefined);
}
