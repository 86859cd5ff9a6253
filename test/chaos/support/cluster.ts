// A chaos cluster: N nodes, each a real redis-server (AOF, fsync always: a restart keeps what was written)
// plus a `replication-engine run` child process (the built CLI in dist/). Every peer link — node i reading
// node j's Redis — goes through its own fault proxy, so each direction can be cut, black-holed or slowed on
// its own. The test process also keeps a direct ioredis client per Redis for the faults that act on the data
// itself (poison entries, trimming, maxmemory) and to read stamps for the data-loss rule.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { parseConfigText } from '../../../src/config/load.js';
import { StoreKeys } from '../../../src/store/keys.js';
import { RedisStoreReader } from '../../../src/store/store-reader.js';
import { DaemonProcess, runCli, type LogLine } from '../../support/daemon-process.js';
import { startFaultProxy, type FaultProxy } from '../../../src/demo/fault-proxy.js';
import { startRedis, type RedisServer } from '../../support/redis-server.js';
import { waitFor } from '../../support/wait.js';
import type { ListedRecord, Stamp } from './oracle.js';

/** The chaos configs' payload limit: the big-record bursts sit just under it, the over-limit poison just past it. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/**
 * Redis's own request limits, scaled down with the payload limit. Production: 16 MiB records against Redis's
 * default 512 MB `proto-max-bulk-len` (and 1 GB query buffer), so 32 records in one call are past it. Here:
 * 1 MiB records against 16 MiB, so a batch of the chaos configs' size (20) of near-limit records is past it,
 * as a production backlog of 40 such records is. An apply call or cold-path round that is not bounded in bytes
 * fails here as it would there.
 */
export const REDIS_SCALED_LIMITS = { 'proto-max-bulk-len': '16mb', 'client-query-buffer-limit': '32mb' };
/**
 * The engine's byte bounds (apply call, XREAD, batch, cold-path round; 32 MiB by default against 16 MiB records)
 * scaled the same way: 2 MiB against 1 MiB records, under the scaled Redis limits above.
 */
export const SCALED_BYTE_BOUND = 2 * 1024 * 1024;
/** Every daemon reads its peers as this ACL user (the credential faults change its password on one Redis). */
export const PEER_USER = 'chaos-peer';
export const PEER_PASSWORD = 'chaos-peer-secret';

export interface ClusterOptions {
  nodes: number;
  /** Names the temp dir of configs, cursor files and (after a failure) logs: `/tmp/re-chaos-<label>-*`. */
  label: string;
}

/** What a key holds on one node, read from its Redis: a live record, a tombstone, or nothing. */
export interface KeyState extends Stamp {
  deleted: boolean;
}

export interface DaemonExit {
  node: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  expected: boolean;
  stderr: string;
}

// Daemons of every cluster in this process. DaemonProcess kills its children on 'exit', which a process killed
// by a signal never emits: an interrupted run (Ctrl-C, a CI timeout) would leave them running.
const liveDaemons = new Set<DaemonProcess>();
let signalHooks = false;
function installSignalHooks(): void {
  if (signalHooks) return;
  signalHooks = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const d of liveDaemons) d.proc.kill('SIGKILL');
      // Whoever handles the signal last makes the process die of it (see redis-server.ts).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export class ClusterNode {
  daemon: (DaemonProcess & { url: string }) | null = null;
  /** Log lines of this node's earlier daemon processes (killed and restarted). */
  readonly pastLogs: LogLine[] = [];
  /** The direct client of this node's Redis (never through a proxy). */
  readonly redis: Redis;
  readonly keys: StoreKeys;
  private expectingExit = false;
  /** Peak RSS (VmHWM, KiB) of this node's daemons so far, read before each is stopped. */
  peakRssKb = 0;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly prefix: string,
    readonly server: RedisServer,
    readonly configPath: string,
    readonly cursorPath: string,
    private readonly exits: DaemonExit[],
  ) {
    this.redis = new Redis({ host: server.host, port: server.port, lazyConnect: false, maxRetriesPerRequest: null, connectionName: `chaos-test:${id}` });
    this.redis.on('error', () => undefined); // reconnects by itself across restarts
    this.keys = new StoreKeys(prefix);
  }

  get url(): string {
    if (!this.daemon) throw new Error(`${this.id}: daemon not running`);
    return this.daemon.url;
  }

  get alive(): boolean {
    return this.daemon !== null && this.daemon.proc.exitCode === null && this.daemon.proc.signalCode === null;
  }

  allLogs(): LogLine[] {
    return [...this.pastLogs, ...(this.daemon?.logs ?? [])];
  }

  async startDaemon(): Promise<void> {
    installSignalHooks();
    const d = await DaemonProcess.run(this.configPath, ['--no-watch']);
    liveDaemons.add(d);
    this.expectingExit = false;
    d.proc.once('exit', (code, signal) => {
      liveDaemons.delete(d);
      this.exits.push({ node: this.id, code, signal, expected: this.expectingExit, stderr: d.stderr.slice(-4000) });
    });
    this.daemon = d;
  }

  /** Reads the running daemon's peak RSS into `peakRssKb`. */
  sampleRss(): void {
    const pid = this.daemon?.proc.pid;
    if (pid === undefined) return;
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      this.peakRssKb = Math.max(this.peakRssKb, kb);
    } catch {
      // exited meanwhile, or no /proc
    }
  }

  /** kill -9: no graceful shutdown, batches and HTTP requests in flight are cut. */
  async killDaemon(): Promise<void> {
    const d = this.daemon;
    if (!d) return;
    this.sampleRss();
    this.expectingExit = true;
    await d.kill();
    this.pastLogs.push(...d.logs);
    this.daemon = null;
  }

  /** SIGTERM and wait; the exit code (0 expected: graceful shutdown). */
  async stopDaemon(): Promise<number | null> {
    const d = this.daemon;
    if (!d) return null;
    this.sampleRss();
    this.expectingExit = true;
    d.signal('SIGTERM');
    const code = await Promise.race([d.exitCode(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref())]);
    if (code === 'timeout') {
      await d.kill();
      return -1;
    }
    this.pastLogs.push(...d.logs);
    this.daemon = null;
    return code;
  }

  /** Every live record via `GET /v1/items`, paged. */
  async list(): Promise<ListedRecord[]> {
    const out: ListedRecord[] = [];
    let cursor = '';
    for (let pages = 0; pages < 10_000; pages++) {
      const res = await fetch(`${this.url}/v1/items?limit=500&cursor=${encodeURIComponent(cursor)}`, { signal: AbortSignal.timeout(5000) });
      if (res.status !== 200) throw new Error(`${this.id}: GET /v1/items → ${res.status} ${await res.text()}`);
      const page = (await res.json()) as { items: ListedRecord[]; cursor: string | null };
      out.push(...page.items);
      if (page.cursor === null) return out;
      cursor = page.cursor;
    }
    throw new Error(`${this.id}: listing did not end`);
  }

  /** Stamps of `keys` (live or tombstone) straight from this node's Redis. */
  async stamps(keys: readonly string[]): Promise<Map<string, KeyState>> {
    const out = new Map<string, KeyState>();
    for (const c of await new RedisStoreReader(this.redis, this.keys.prefix).fetchChanges(keys)) {
      out.set(c.key, { hlc: c.hlc, origin: c.origin, deleted: c.op === 'DEL' });
    }
    return out;
  }

  async status(): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.url}/status`, { signal: AbortSignal.timeout(5000) });
    return (await res.json()) as Record<string, unknown>;
  }
}

export class Cluster {
  readonly nodes: ClusterNode[] = [];
  /** proxies[i][j]: the link node i uses to read node j's Redis (undefined on the diagonal). */
  readonly proxies: (FaultProxy | undefined)[][] = [];
  readonly exits: DaemonExit[] = [];
  readonly dir: string;
  private servers: RedisServer[] = [];

  private constructor(label: string) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), `re-chaos-${label}-`));
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(options.label);
    try {
      await cluster.boot(options.nodes);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private async boot(n: number): Promise<void> {
    const started = await Promise.allSettled(Array.from({ length: n }, () => startRedis({
      persistence: true,
      aclUser: { username: PEER_USER, password: PEER_PASSWORD },
      // No automatic AOF rewrite: a snapshot is a copy of the AOF directory (see local-loss.ts).
      config: { ...REDIS_SCALED_LIMITS, 'auto-aof-rewrite-percentage': '0' },
    })));
    this.servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const servers = this.servers;
    for (let i = 0; i < n; i++) {
      const row: (FaultProxy | undefined)[] = [];
      for (let j = 0; j < n; j++) row.push(i === j ? undefined : await startFaultProxy({ host: '127.0.0.1', port: servers[j]!.port }));
      this.proxies.push(row);
    }
    for (let i = 0; i < n; i++) {
      const id = `node-${i}`;
      const node = new ClusterNode(i, id, `c${i}:`, servers[i]!, path.join(this.dir, `${id}.yaml`), path.join(this.dir, `${id}-cursors.db`), this.exits);
      this.nodes.push(node);
    }
    for (const node of this.nodes) this.writeConfig(node);
    await Promise.all(this.nodes.map((node) => node.startDaemon()));
  }

  /** The chaos configuration: small stream cap (trimming past cursors), short cold-path interval, fast retries. */
  private writeConfig(node: ClusterNode): void {
    const doc = {
      replication: {
        local_node_id: node.id,
        local: { redis_url: node.server.url, redis_prefix: node.prefix },
        http: { listen: '127.0.0.1:0' },
        store: {
          cdc_maxlen: 50,
          max_payload_bytes: MAX_PAYLOAD_BYTES,
          max_apply_bytes: SCALED_BYTE_BOUND,
          memory_threshold: 0.8,
          memory_poll_interval: '200ms',
        },
        logging: { level: 'info' },
        settings: {
          hot_path: { block_timeout: '500ms', batch_size: 20, adaptive_batch_size: true, min_batch_size: 5, max_batch_size: 200, max_read_bytes: SCALED_BYTE_BOUND, max_batch_bytes: SCALED_BYTE_BOUND },
          cold_path: { interval_sec: 2, max_items_per_cycle: 2000, backoff_base_sec: 0.5, backoff_max_sec: 4, max_fetch_bytes: SCALED_BYTE_BOUND },
          peer_health: { ping_interval_sec: 1, idle_threshold_sec: 2 },
        },
        peers: this.nodes
          .filter((peer) => peer !== node)
          .map((peer) => ({
            node_id: peer.id,
            redis_url: this.proxies[node.index]![peer.index]!.url(),
            redis_prefix: peer.prefix,
            username: PEER_USER,
            password: PEER_PASSWORD,
            circuit_failure_threshold: 3,
            circuit_reset_timeout_sec: 1,
          })),
        cursor: { sqlite_path: node.cursorPath },
      },
    };
    const text = stringify(doc);
    parseConfigText(text, { source: node.configPath }); // fail here, with the field, rather than in a child
    writeFileSync(node.configPath, text);
  }

  link(reader: number, owner: number): FaultProxy {
    const p = this.proxies[reader]?.[owner];
    if (!p) throw new Error(`no link ${reader}←${owner}`);
    return p;
  }

  allLinks(): { reader: number; owner: number; proxy: FaultProxy }[] {
    const out: { reader: number; owner: number; proxy: FaultProxy }[] = [];
    this.proxies.forEach((row, reader) => row.forEach((proxy, owner) => proxy && out.push({ reader, owner, proxy })));
    return out;
  }

  /** `replication-engine verify --config` for one node: exit code and output. */
  verify(node: ClusterNode): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return runCli(['verify', '--config', node.configPath, '--limit', '10']);
  }

  /** Overwrites or deletes a (killed) node's cursor file. */
  damageCursorFile(node: ClusterNode, how: 'delete' | 'garbage', garbage: Buffer): void {
    if (how === 'delete') {
      for (const suffix of ['', '-wal', '-shm']) rmSync(node.cursorPath + suffix, { force: true });
      return;
    }
    // The file replaced by garbage. Its -wal/-shm go too: SQLite reads the newest pages from a WAL, so
    // garbage under an intact WAL is mostly masked (and repaired by the next checkpoint) — a run showed it.
    if (!existsSync(node.cursorPath)) return;
    for (const suffix of ['-wal', '-shm']) rmSync(node.cursorPath + suffix, { force: true });
    writeFileSync(node.cursorPath, garbage);
  }

  /** Writes every daemon's log lines to the temp dir (kept after a failure). */
  dumpLogs(): string {
    for (const node of this.nodes) {
      writeFileSync(path.join(this.dir, `${node.id}.log`), node.allLogs().map((l) => JSON.stringify(l)).join('\n') + '\n');
      try {
        writeFileSync(path.join(this.dir, `${node.id}-redis.log`), readFileSync(path.join(node.server.dir, 'redis.log')));
      } catch {
        // the server dir may be gone
      }
    }
    return this.dir;
  }

  /** Waits until every node lists the same records; returns them. On timeout the error names what differs. */
  async waitForIdenticalRecords(timeoutMs: number): Promise<ListedRecord[]> {
    let last: ListedRecord[][] | null = null;
    try {
      return await waitFor(async () => {
        const lists = await Promise.all(this.nodes.map((n) => n.list()));
        last = lists;
        const canon = lists.map((l) => JSON.stringify(l.map((r) => [r.key, r.hash, r.hlc, r.origin, r.version])));
        return canon.every((c) => c === canon[0]) ? lists[0]! : null;
      }, { what: 'identical records on every node', timeoutMs, intervalMs: 500 });
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${last ? this.describeDivergence(last) : 'no listing succeeded'}`);
    }
  }

  private describeDivergence(lists: ListedRecord[][]): string {
    const maps = lists.map((l) => new Map(l.map((r) => [r.key, r])));
    const keys = [...new Set(lists.flatMap((l) => l.map((r) => r.key)))].sort();
    const lines = [`records per node: ${this.nodes.map((n, i) => `${n.id}=${lists[i]!.length}`).join(' ')}`];
    let differing = 0;
    for (const key of keys) {
      const views = maps.map((m) => m.get(key));
      const sig = views.map((v) => (v ? `${v.hlc} ${v.origin} ${v.hash.slice(0, 8)}` : 'absent'));
      if (sig.every((x) => x === sig[0])) continue;
      if (++differing <= 15) lines.push(`  ${key}: ${this.nodes.map((n, i) => `${n.id}: ${sig[i]}`).join(' | ')}`);
    }
    lines.splice(1, 0, `${differing} keys differ`);
    return lines.join('\n');
  }

  /**
   * Every peer link healthy again after healing, seen from each node's /status: connected, circuit closed, no
   * error, not paused, and a cold-path cycle that ran after `sinceMs` without failing. Relaying (a node
   * re-emits what it applies) would hide a link that stays dead from the data checks alone.
   */
  async waitForHealthyLinks(sinceMs: number, timeoutMs: number): Promise<void> {
    let bad: string[] = [];
    try {
      await waitFor(async () => {
        bad = [];
        for (const node of this.nodes) {
          const status = (await node.status()) as { peers: { peer_id: string; connected: boolean; circuit: string; last_error: string | null; paused: string | null; last_repair: { at: string; result: string } | null }[] };
          for (const p of status.peers) {
            const repairedSince = p.last_repair !== null && Date.parse(p.last_repair.at) >= sinceMs && p.last_repair.result !== 'failed';
            if (!p.connected || p.circuit !== 'closed' || p.last_error !== null || p.paused !== null || !repairedSince) {
              bad.push(`${node.id}←${p.peer_id}: connected=${p.connected} circuit=${p.circuit} paused=${p.paused} last_error=${p.last_error} last_repair=${JSON.stringify(p.last_repair)}`);
            }
          }
        }
        return bad.length === 0;
      }, { what: 'every peer link healthy', timeoutMs, intervalMs: 500 });
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n  ${bad.join('\n  ')}`);
    }
  }

  /** Stops everything this cluster started; keeps the temp dir when asked (failed run). */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.killDaemon()));
    for (const n of this.nodes) n.redis.disconnect();
    await Promise.allSettled(this.allLinks().map((l) => l.proxy.close()));
    await Promise.allSettled(this.servers.map((s) => s.stop()));
    if (!options.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
