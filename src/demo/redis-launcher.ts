/**
 * Starts and stops the demo's own redis-server processes: loopback only, one temp dir each,
 * no persistence, a free port each — and none may outlive the demo, however it ends:
 *
 * - normally, `stop()` shuts each down and waits until it is gone;
 * - on an abrupt exit of the demo's process (a second Ctrl-C, an uncaught error), a process
 *   'exit' hook SIGKILLs them synchronously;
 * - when the process dies without running any code (SIGKILL, a test worker killed), each
 *   server's small `sh` supervisor sees its stdin pipe from the demo close and stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { DemoError } from './demo-error.js';
import { errorMessage } from '../errors.js';

const READY_LINE = 'Ready to accept connections';
const READY_TIMEOUT_MS = 15_000;
/** A server that ignores SIGTERM this long is SIGKILLed: cleanup must never hang. */
const STOP_TIMEOUT_MS = 5_000;
/** A port found free can be taken before redis binds it; try a fresh one a few times. */
const BIND_ATTEMPTS = 5;
const PID_LINE = /^supervised-pid (\d+)$/m;

/**
 * Runs `$0 $1` (redis-server and its config) and stops it (SIGTERM) as soon as its stdin —
 * a pipe from the demo — reaches EOF: when the demo ends it, or when the demo's process dies.
 * fd 3 keeps that stdin: background jobs of a non-interactive shell get /dev/null instead.
 * The shell exits when redis does, so its exit means the server is gone.
 */
const SUPERVISOR = [
  'exec 3<&0',
  '"$0" "$1" </dev/null & pid=$!',
  'echo "supervised-pid $pid"',
  '( read -r _ <&3; kill "$pid" 2>/dev/null ) &',
  'wait "$pid"',
].join('\n');

export interface RedisProcess {
  readonly name: string;
  readonly port: number;
  /** The redis-server's own pid. */
  readonly pid: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** SIGTERM, then SIGKILL after a bound; resolves once the server is gone. Idempotent. */
  stop(): Promise<void>;
}

/** The absolute path of `command` on PATH, or null: the demo checks before starting anything. */
export function findOnPath(command: string, pathEnv: string = process.env.PATH ?? ''): string | null {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** What to tell someone without redis-server. */
export const REDIS_INSTALL_HINTS = [
  'Debian/Ubuntu:  sudo apt-get install redis-server',
  'macOS:          brew install redis',
] as const;

export class RedisLauncher {
  /** Supervisor shells still running; each leads its own process group (shell + redis). */
  private readonly children = new Set<ChildProcess>();
  private readonly killAllSync = (): void => {
    for (const child of this.children) killGroup(child, 'SIGKILL');
  };
  private hooked = false;

  constructor(private readonly executable: string) {}

  /** Starts one server in `dir` (created); its output goes to `dir/redis.log`. */
  async start(name: string, dir: string): Promise<RedisProcess> {
    await mkdir(path.join(dir, 'data'), { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const port = await freeLoopbackPort();
      try {
        return await this.launch(name, dir, port);
      } catch (err) {
        if (!(err instanceof PortTaken) || attempt >= BIND_ATTEMPTS) {
          throw err instanceof DemoError ? err : new DemoError('redis_start_failed', `redis-server for ${name}: ${errorMessage(err)}`, { cause: err });
        }
      }
    }
  }

  private async launch(name: string, dir: string, port: number): Promise<RedisProcess> {
    const confFile = path.join(dir, 'redis.conf');
    await writeFile(confFile, [
      // Loopback only: the demo never exposes a Redis to the network.
      'bind 127.0.0.1',
      `port ${port}`,
      'daemonize no',
      'logfile ""',
      `dir "${path.join(dir, 'data')}"`,
      // No persistence: nothing to clean up but the temp dir, nothing slow at shutdown.
      'save ""',
      'appendonly no',
      '',
    ].join('\n'));

    // Its own process group: a Ctrl-C on the terminal reaches the demo only, which then stops
    // the nodes while their Redis is still up (a fast, clean shutdown) and the servers after.
    const child = spawn('/bin/sh', ['-c', SUPERVISOR, this.executable, confFile], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.track(child);
    child.stdin?.on('error', () => undefined); // EPIPE once the shell is gone: nothing to tell
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    void exited.then(() => this.untrack(child));
    // The output must be drained (a full pipe would stall redis); keep it for --keep and errors.
    const log = createWriteStream(path.join(dir, 'redis.log'), { flags: 'a' });
    log.on('error', () => undefined); // a lost log line must not crash the demo
    child.once('close', () => log.end());
    let tail = '';
    const lastLines = (): string => tail.split('\n').filter((l) => l.trim() !== '' && !PID_LINE.test(l)).slice(-8).join('\n');

    const pid = await new Promise<number>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        killGroup(child, 'SIGKILL');
        reject(new DemoError('redis_start_failed', `redis-server for ${name} not ready after ${READY_TIMEOUT_MS} ms:\n${lastLines()}`));
      }, READY_TIMEOUT_MS);
      let redisPid: number | null = null;
      const onOutput = (chunk: Buffer): void => {
        log.write(chunk);
        if (ready) return;
        tail += chunk.toString('utf8');
        redisPid ??= Number(PID_LINE.exec(tail)?.[1] ?? Number.NaN) || null;
        if (redisPid !== null && tail.includes(READY_LINE)) {
          ready = true;
          clearTimeout(timer);
          resolve(redisPid);
        }
        tail = tail.slice(-4000);
      };
      child.stdout?.on('data', onOutput);
      child.stderr?.on('data', onOutput);
      child.once('error', (err) => {
        clearTimeout(timer);
        // Spawning itself failed: there will be no 'exit' to untrack it.
        if (child.pid === undefined) this.untrack(child);
        reject(new DemoError('redis_start_failed', `could not run ${this.executable}: ${err.message}`, { cause: err }));
      });
      child.once('exit', (code, signal) => {
        if (ready) return;
        clearTimeout(timer);
        reject(/Address already in use/i.test(tail)
          ? new PortTaken()
          : new DemoError('redis_start_failed', `redis-server for ${name} exited (${signal ?? `code ${String(code)}`}) before it was ready:\n${lastLines()}`));
      });
    });

    let stopping: Promise<void> | undefined;
    return {
      name,
      port,
      pid,
      url: `redis://127.0.0.1:${port}`,
      stop: () => {
        stopping ??= (async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.stdin?.end(); // EOF: the supervisor SIGTERMs redis and exits once it is gone
            const escalate = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
            await exited;
            clearTimeout(escalate);
          }
        })();
        return stopping;
      },
    };
  }

  private track(child: ChildProcess): void {
    this.children.add(child);
    if (!this.hooked) {
      // 'exit' handlers run synchronously on any exit, even process.exit(): the last line of defence.
      process.on('exit', this.killAllSync);
      this.hooked = true;
    }
  }

  private untrack(child: ChildProcess): void {
    this.children.delete(child);
    if (this.children.size === 0 && this.hooked) {
      process.off('exit', this.killAllSync);
      this.hooked = false;
    }
  }
}

class PortTaken extends Error {}

/** Signals the supervisor's whole process group: the shell, its watchdog and redis. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** A loopback port free at the moment of asking (the test harness uses it too). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
