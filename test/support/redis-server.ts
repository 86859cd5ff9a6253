// Real redis-server processes for integration and chaos tests: one temp dir and one free loopback port each,
// never the system Redis on 6379. Every process is tracked so none outlives the test run (see global-setup.ts).
import type { ChildProcess } from 'node:child_process';
import { accessSync, appendFileSync, constants as fsConstants, readdirSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loopbackConfig, onFreePort, quoteConfValue, RedisStartError, spawnRedis } from '../../src/demo/redis-process.js';
import { getTlsCerts } from './tls-certs.js';

export interface RedisServerOptions {
  /** Default false (`save ""`, `appendonly no`). true: AOF with `appendfsync always`, so a restart or kill keeps the data. */
  persistence?: boolean;
  /** Default false. true: TLS-only server (`port 0`, `tls-port`), certs from tls-certs.ts. */
  tls?: boolean;
  /** Bytes; sets `maxmemory` with `maxmemory-policy noeviction`. */
  maxmemory?: number;
  /** `requirepass` for the default user. */
  password?: string;
  /** An extra ACL user with full access (`+@all ~* &*`). */
  aclUser?: { username: string; password: string };
  /** Extra redis.conf lines' values, e.g. { 'proto-max-bulk-len': '4mb' }. */
  config?: Record<string, string>;
}

export interface RedisTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface RestartOptions {
  keepData?: boolean;
  fromSnapshot?: string;
  beforeStart?: (dataDir: string) => void | Promise<void>;
}

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:port` (`rediss://` when TLS), authenticated as the default user. */
  readonly url: string;
  /** The server's temp dir: `data/` (Redis `dir`), `redis.conf`, `redis.log`. */
  readonly dir: string;
  /** CA plus a client cert/key the server accepts (it does not require one). */
  readonly tls?: RedisTlsFiles;
  /** pid of the current process, undefined while stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  urlFor(auth?: { username?: string; password?: string }): string;
  /** SIGTERM and wait for exit; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a simulated crash. The dir is kept, so `restart()` works. */
  kill(): Promise<void>;
  /**
   * SIGTERM (if running) and start again on the same port. `keepData: false` wipes the data dir first
   * (simulated data loss). Default true, which only keeps data for a server started with `persistence: true`.
   * `fromSnapshot` replaces the data dir by a copy made with `snapshot()` (an older RDB/AOF restored).
   * `beforeStart` runs on the data dir while the server is down (e.g. to put a snapshot of its own back).
   */
  restart(opts?: RestartOptions): Promise<void>;
  /**
   * SAVE, then copy the data dir (RDB, and the AOF when `persistence`) aside; returns its path.
   * `restart({ fromSnapshot })` starts the server from that copy: its data goes back in time.
   */
  snapshot(): Promise<string>;
}

/** Env var naming the per-run dir where each process's pid is recorded (created by global-setup). */
export const RUN_DIR_ENV = 'RE_TEST_RUN_DIR';

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

const registry = new Set<ManagedRedis>();

/** Set by `npm run test:unit`: test/unit and test/property are pure logic and must start no Redis. */
export const NO_REDIS_ENV = 'RE_TEST_NO_REDIS';

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (process.env[NO_REDIS_ENV] === '1') {
    throw new Error('test/unit and test/property test pure logic and start no redis-server: this test belongs in test/integration');
  }
  assertRedisInstalled();
  installCleanupHooks();
  const tls = options.tls ? await tlsSetup() : undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 're-redis-'));
  const server = new ManagedRedis(dir, options, tls);
  registry.add(server);
  try {
    await server.launchOnFreePort();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/** Stops every server this process started (SIGTERM, then waits). */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...registry].map((s) => s.stop()));
}

class ManagedRedis implements RedisServer {
  readonly host = '127.0.0.1' as const;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private boundPort = 0;
  private snapshots = 0;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    private readonly options: RedisServerOptions,
    private readonly tlsSetup: TlsSetup | undefined,
  ) {}

  get tls(): RedisTlsFiles | undefined {
    return this.tlsSetup?.client;
  }

  get port(): number {
    return this.boundPort;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get url(): string {
    return this.urlFor(this.options.password === undefined ? undefined : { password: this.options.password });
  }

  urlFor(auth?: { username?: string; password?: string }): string {
    const scheme = this.tls ? 'rediss' : 'redis';
    let userinfo = '';
    if (auth?.username !== undefined || auth?.password !== undefined) {
      userinfo = `${encodeURIComponent(auth.username ?? '')}:${encodeURIComponent(auth.password ?? '')}@`;
    }
    return `${scheme}://${userinfo}${this.host}:${this.port}`;
  }

  async launchOnFreePort(): Promise<void> {
    await onFreePort(async (port) => {
      this.boundPort = port;
      await this.launch();
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.terminate('SIGTERM');
      registry.delete(this);
      await rm(this.dir, { recursive: true, force: true });
      forgetServer(this.dir);
    })();
    return this.stopping;
  }

  async kill(): Promise<void> {
    await this.terminate('SIGKILL');
  }

  async restart(opts: RestartOptions = {}): Promise<void> {
    if (this.stopping) throw new Error('restart() after stop(): the server is gone');
    await this.terminate('SIGTERM');
    if (opts.keepData === false || opts.fromSnapshot !== undefined) {
      await rm(this.dataDir, { recursive: true, force: true });
    }
    if (opts.fromSnapshot !== undefined) await cp(opts.fromSnapshot, this.dataDir, { recursive: true });
    if (opts.beforeStart) {
      await mkdir(this.dataDir, { recursive: true });
      await opts.beforeStart(this.dataDir);
    }
    await this.launch();
  }

  async snapshot(): Promise<string> {
    if (!this.child) throw new Error('snapshot() of a stopped server');
    const tls = this.tls;
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, ...(tls ? { tls: { ca: tls.ca } } : {}) });
    try {
      await client.connect();
      await client.save();
    } finally {
      client.disconnect();
    }
    const target = path.join(this.dir, `snapshot-${++this.snapshots}`);
    await cp(this.dataDir, target, { recursive: true });
    return target;
  }

  /** Synchronous last-resort kill for process exit handlers. */
  killSync(): void {
    this.child?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  private async terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    // A server stuck in shutdown must not hang the suite: escalate after a bound.
    const escalate = signal === 'SIGTERM' ? setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS) : undefined;
    await this.exited;
    clearTimeout(escalate);
  }

  private async launch(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    const confFile = path.join(this.dir, 'redis.conf');
    await writeFile(confFile, this.config());
    const logFile = path.join(this.dir, 'redis.log');

    const server = spawnRedis('redis-server', [confFile], {}, {
      label: `redis-server on port ${this.port}`,
      readyTimeoutMs: READY_TIMEOUT_MS,
      onOutput: (chunk) => appendFileSync(logFile, chunk),
    });
    const { child } = server;
    this.child = child;
    this.exited = server.exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    if (child.pid !== undefined) recordServer(this.dir, child.pid);
    try {
      await server.ready;
    } catch (err) {
      const enoent = err instanceof RedisStartError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
      throw enoent ? notInstalledError() : err;
    }
  }

  private config(): string {
    const o = this.options;
    const lines = [
      ...loopbackConfig(null, this.dataDir),
      'protected-mode no',
      // Lets chaos tests stall a node (DEBUG SLEEP) from loopback only.
      'enable-debug-command local',
    ];
    if (this.tlsSetup) {
      lines.push(
        'port 0',
        `tls-port ${this.port}`,
        `tls-cert-file ${quoteConfValue(this.tlsSetup.serverCertFile)}`,
        `tls-key-file ${quoteConfValue(this.tlsSetup.serverKeyFile)}`,
        `tls-ca-cert-file ${quoteConfValue(this.tlsSetup.client.caFile)}`,
        'tls-auth-clients optional',
      );
    } else {
      lines.push(`port ${this.port}`);
    }
    lines.push(o.persistence ? 'appendonly yes' : 'appendonly no');
    if (o.persistence) lines.push('appendfsync always');
    if (o.maxmemory !== undefined) lines.push(`maxmemory ${o.maxmemory}`, 'maxmemory-policy noeviction');
    if (o.password !== undefined) lines.push(`requirepass ${quoteConfValue(o.password)}`);
    for (const [name, value] of Object.entries(o.config ?? {})) lines.push(`${name} ${quoteConfValue(value)}`);
    if (o.aclUser) {
      lines.push(`user ${quoteConfValue(o.aclUser.username)} on ${quoteConfValue(`>${o.aclUser.password}`)} ~* &* +@all`);
    }
    return `${lines.join('\n')}\n`;
  }
}

interface TlsSetup {
  /** What clients need: the CA and a client pair. */
  client: RedisTlsFiles;
  serverCertFile: string;
  serverKeyFile: string;
}

async function tlsSetup(): Promise<TlsSetup> {
  const certs = await getTlsCerts();
  return {
    client: {
      caFile: certs.caFile,
      ca: certs.ca,
      certFile: certs.client.certFile,
      keyFile: certs.client.keyFile,
      cert: certs.client.cert,
      key: certs.client.key,
    },
    serverCertFile: certs.server.certFile,
    serverKeyFile: certs.server.keyFile,
  };
}


function notInstalledError(): Error {
  return new Error('redis-server is not on PATH; integration tests need it: apt-get install redis-server');
}

function assertRedisInstalled(): void {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const found = dirs.some((d) => {
    try {
      accessSync(path.join(d, 'redis-server'), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw notInstalledError();
}

// ---- orphan protection -------------------------------------------------------------------------------

let hooksInstalled = false;
function installCleanupHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = (): void => {
    for (const s of registry) s.killSync();
    registry.clear();
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      // Our listener replaced the default action; if nobody else handles the signal, die of it as intended.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

// One record per server (named after its temp dir), rewritten with the pid at each (re)start and removed
// by stop(): so a crashed worker's killed-but-not-stopped servers still get their dirs removed.
function recordFile(dir: string): string | undefined {
  const runDir = process.env[RUN_DIR_ENV];
  return runDir ? path.join(runDir, `${path.basename(dir)}.json`) : undefined;
}

/** The run-dir record of a server, if this process keeps them (global setup ran). */
export function serverRecordFile(server: Pick<RedisServer, 'dir'>): string | undefined {
  return recordFile(server.dir);
}

function recordServer(dir: string, pid: number): void {
  const file = recordFile(dir);
  if (!file) return;
  try {
    writeFileSync(file, JSON.stringify({ pid, dir }));
  } catch {
    // The run dir is best-effort protection against crashed workers; the in-process hooks still apply.
  }
}

function forgetServer(dir: string): void {
  const file = recordFile(dir);
  if (!file) return;
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * SIGKILLs every redis-server recorded in `runDir` that is still alive (a worker that crashed could not stop
 * its servers) and removes their temp dirs and records. A pid is only killed if its cwd is still the recorded temp dir
 * (Redis chdirs into its `dir`), so a reused pid is never hit. Returns the pids killed.
 */
export function reapRecordedRedis(runDir: string): number[] {
  const killed: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync(runDir);
  } catch {
    return killed;
  }
  for (const name of entries) {
    if (!/^re-redis-.+\.json$/.test(name)) continue;
    let rec: { pid: number; dir: string };
    try {
      rec = JSON.parse(readFileSync(path.join(runDir, name), 'utf8')) as { pid: number; dir: string };
    } catch {
      continue;
    }
    if (isOurRedis(rec.pid, rec.dir)) {
      try {
        process.kill(rec.pid, 'SIGKILL');
        killed.push(rec.pid);
      } catch {
        // exited meanwhile
      }
    }
    if (rec.dir.startsWith(path.join(os.tmpdir(), 're-redis-'))) rmSync(rec.dir, { recursive: true, force: true });
    rmSync(path.join(runDir, name), { force: true });
  }
  return killed;
}

function isOurRedis(pid: number, dir: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`).startsWith(dir);
  } catch {
    return false; // not alive (or not ours to inspect)
  }
}
