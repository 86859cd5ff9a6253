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
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DemoError } from './demo-error.js';
import { loopbackConfig, onFreePort, RedisStartError, spawnRedis } from './redis-process.js';
import { errorMessage } from '../errors.js';

const READY_TIMEOUT_MS = 15_000;
/** A server that ignores SIGTERM this long is SIGKILLed: cleanup must never hang. */
const STOP_TIMEOUT_MS = 5_000;
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
    try {
      return await onFreePort((port) => this.launch(name, dir, port));
    } catch (err) {
      const message = err instanceof RedisStartError ? err.message : `redis-server for ${name}: ${errorMessage(err)}`;
      throw new DemoError('redis_start_failed', message, { cause: err });
    }
  }

  private async launch(name: string, dir: string, port: number): Promise<RedisProcess> {
    const confFile = path.join(dir, 'redis.conf');
    // Loopback only: the demo never exposes a Redis to the network. No persistence: nothing to clean up but
    // the temp dir, nothing slow at shutdown.
    await writeFile(confFile, [...loopbackConfig(port, path.join(dir, 'data')), 'appendonly no', ''].join('\n'));

    // The output must be drained (a full pipe would stall redis); kept for --keep and errors.
    const log = createWriteStream(path.join(dir, 'redis.log'), { flags: 'a' });
    log.on('error', () => undefined); // a lost log line must not crash the demo
    // Its own process group: a Ctrl-C on the terminal reaches the demo only, which then stops
    // the nodes while their Redis is still up (a fast, clean shutdown) and the servers after.
    const server = spawnRedis('/bin/sh', ['-c', SUPERVISOR, this.executable, confFile], { detached: true }, {
      label: `redis-server for ${name}`,
      readyTimeoutMs: READY_TIMEOUT_MS,
      stdin: 'pipe',
      onOutput: (chunk) => log.write(chunk),
      isReady: (output) => PID_LINE.test(output),
      hideLine: (line) => PID_LINE.test(line),
      kill: (c) => killGroup(c, 'SIGKILL'),
    });
    const { child, exited } = server;
    this.track(child);
    child.stdin?.on('error', () => undefined); // EPIPE once the shell is gone: nothing to tell
    void exited.then(() => this.untrack(child));
    child.once('close', () => log.end());
    await server.ready;
    const pid = Number(PID_LINE.exec(server.output())?.[1]);

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

/** Signals the supervisor's whole process group: the shell, its watchdog and redis. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
