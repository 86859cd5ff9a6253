/**
 * Running a local redis-server: spawning it, draining its output, and knowing when it is ready, has exited or
 * will never be. The demo's launcher (under a supervisor shell, so no server outlives the demo) and the test
 * harness (directly, with restarts and snapshots) share this core; each writes its own config.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import net from 'node:net';

/** What redis-server logs once it accepts connections. */
export const READY_LINE = 'Ready to accept connections';

/** How many fresh ports `onFreePort` tries: a port found free can be taken before redis binds it. */
export const BIND_ATTEMPTS = 5;

/** Output kept for error messages (characters). */
const TAIL_CHARS = 8_000;

export type RedisStartFailure = 'port_in_use' | 'exited' | 'spawn_failed' | 'timeout';

export class RedisStartError extends Error {
  constructor(readonly reason: RedisStartFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RedisStartError';
  }
}

export interface SpawnRedisOptions {
  /** Names the server in errors, e.g. "redis-server for berlin" or "redis-server on port 7001". */
  label: string;
  readyTimeoutMs: number;
  /** Every chunk of stdout and stderr, e.g. for a log file. The output is drained either way. */
  onOutput?: (chunk: Buffer) => void;
  /** Beyond the ready line; default: the ready line is enough. */
  isReady?: (output: string) => boolean;
  /** Lines of the output that are not the server's own (left out of error messages). */
  hideLine?: (line: string) => boolean;
  /** Default 'ignore'; 'pipe' for a wrapper that watches its stdin. */
  stdin?: 'ignore' | 'pipe';
  /** What a timeout kills; default the child itself (SIGKILL). */
  kill?: (child: ChildProcess) => void;
}

export interface SpawnedRedis {
  readonly child: ChildProcess;
  /** Resolves once ready; rejects with a `RedisStartError`. */
  readonly ready: Promise<void>;
  /** Resolves when the process is gone (also when it never started). */
  readonly exited: Promise<void>;
  /** The output so far (its last part): for parsing what the process printed. */
  output(): string;
}

/** Spawns `command` (redis-server, or a wrapper that runs it) and watches its output until it is ready. */
export function spawnRedis(command: string, args: readonly string[], spawnOptions: Omit<SpawnOptions, 'stdio'>, options: SpawnRedisOptions): SpawnedRedis {
  const child = spawn(command, args, { ...spawnOptions, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
  let tail = '';
  let markExited!: () => void;
  const exited = new Promise<void>((resolve) => (markExited = resolve));
  const lastLines = (): string => tail.split('\n').filter((l) => l.trim() !== '' && !(options.hideLine?.(l) ?? false)).slice(-20).join('\n');

  const ready = new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: RedisStartError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => {
      (options.kill ?? ((c: ChildProcess) => c.kill('SIGKILL')))(child);
      settle(new RedisStartError('timeout', `${options.label} not ready after ${options.readyTimeoutMs} ms:\n${lastLines()}`));
    }, options.readyTimeoutMs);
    const onOutput = (chunk: Buffer): void => {
      options.onOutput?.(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-TAIL_CHARS);
      if (!settled && tail.includes(READY_LINE) && (options.isReady?.(tail) ?? true)) settle();
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.once('error', (err) => {
      // Spawning itself failed: there will be no 'exit'.
      if (child.pid === undefined) markExited();
      settle(new RedisStartError('spawn_failed', `could not run ${command}: ${err.message}`, { cause: err }));
    });
    child.once('exit', (code, signal) => {
      markExited();
      const why = `${options.label} exited (${signal ?? `code ${String(code)}`}) before it was ready`;
      settle(/Address already in use/i.test(tail)
        ? new RedisStartError('port_in_use', `${why}: port in use`)
        : new RedisStartError('exited', `${why}:\n${lastLines()}`));
    });
  });
  // A caller that stops waiting (its own timeout) must not leave an unhandled rejection behind.
  ready.catch(() => undefined);
  return { child, ready, exited, output: () => tail };
}

/** Runs `launch` on a free loopback port, on a fresh one each time the port was taken meanwhile. */
export async function onFreePort<T>(launch: (port: number) => Promise<T>, attempts = BIND_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    try {
      return await launch(port);
    } catch (err) {
      if (!(err instanceof RedisStartError && err.reason === 'port_in_use') || attempt >= attempts) throw err;
    }
  }
}

/** A loopback port free at the moment of asking. */
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

/** The config lines every local server here starts with: loopback only, in the foreground, no RDB saves. */
export function loopbackConfig(port: number | null, dataDir: string): string[] {
  return ['bind 127.0.0.1', ...(port === null ? [] : [`port ${port}`]), 'daemonize no', 'logfile ""', `dir ${quoteConfValue(dataDir)}`, 'save ""'];
}

/** A double-quoted redis.conf argument (sdssplitargs rules). */
export function quoteConfValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}
