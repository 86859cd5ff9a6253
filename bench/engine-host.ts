/**
 * Parent side of bench/engine-child.ts: forks a process running one ReplicationEngine (the
 * child compiled to JavaScript by bench/build-engine.ts, on bare Node) and talks to it over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEngineChild } from './build-engine.js';
import type { ChildMessage, ChildStart } from './engine-protocol.js';

export const PROFILE_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));

type Stopped = Extract<ChildMessage, { type: 'stopped' }>;

export interface EngineHostOptions {
  /** Write a V8 CPU profile of the engine process into bench/profiles/. */
  profile?: boolean;
  /** A name for the profile file. */
  label?: string;
}

const LAUNCHER = fileURLToPath(new URL('../bin/replication-engine.js', import.meta.url));

/**
 * The node flags the daemon's launcher runs with (its second line, `exec node <flags> "$0" "$@"`):
 * the engine processes are measured as users run them.
 */
export function daemonNodeFlags(): string[] {
  const line = readFileSync(LAUNCHER, 'utf8').split('\n')[1] ?? '';
  const m = /exec node (.*) "\$0" "\$@"$/.exec(line);
  if (!m?.[1]) throw new Error(`${LAUNCHER}: line 2 is not \`':' //; exec node <flags> "$0" "$@"\``);
  return m[1].split(' ').filter(Boolean);
}

export class EngineHost {
  readonly baselineRssKb: number;
  private readonly child: ChildProcess;
  private readonly waiters = new Map<ChildMessage['type'], (m: ChildMessage) => void>();
  private failure: Error | null = null;
  private readonly exited: Promise<void>;

  private constructor(child: ChildProcess, baselineRssKb: number) {
    this.child = child;
    this.baselineRssKb = baselineRssKb;
    child.on('message', (m: ChildMessage) => this.dispatch(m));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      if (code !== 0 && code !== null) this.fail(new Error(`engine process exited with code ${code}`));
      else if (signal) this.fail(new Error(`engine process killed by ${signal}`));
    });
  }

  static async spawn(options: EngineHostOptions = {}): Promise<EngineHost> {
    const execArgv = [...daemonNodeFlags()];
    if (options.profile) {
      mkdirSync(PROFILE_DIR, { recursive: true });
      execArgv.push('--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `${options.label ?? 'engine'}-${Date.now()}.cpuprofile`);
    }
    const child = fork(buildEngineChild(), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<ChildMessage>((resolve, reject) => {
      child.once('message', (m: ChildMessage) => resolve(m));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`engine process exited early (code ${code})`)));
    });
    if (ready.type !== 'ready') throw new Error(`engine process: unexpected first message ${ready.type}`);
    return new EngineHost(child, ready.rssKb);
  }

  /** Starts the engine; resolves once `engine.start()` returned in the child. */
  async start(msg: Omit<ChildStart, 'type'>): Promise<void> {
    const started = this.next('started');
    this.child.send({ type: 'start', ...msg });
    await started;
  }

  /** The next message of this type (registered before the action that causes it). */
  next<T extends ChildMessage['type']>(type: T, timeoutMs = 600_000): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const timer = setTimeout(() => reject(new Error(`engine process: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(type, (m) => {
        clearTimeout(timer);
        if (m.type === 'error') reject(new Error(`engine process: ${m.message}`));
        else resolve(m as Extract<ChildMessage, { type: T }>);
      });
    });
  }

  /** Graceful engine shutdown in the child, then the child exits; returns its memory and counters. */
  async stop(): Promise<Stopped> {
    const stopped = this.next('stopped', 60_000);
    this.child.send({ type: 'stop' });
    const m = await stopped;
    await this.exited;
    return m;
  }

  /** Last resort (a failed run): kill the child. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private dispatch(m: ChildMessage): void {
    if (m.type === 'error') {
      this.fail(new Error(`engine process: ${m.message}`));
      return;
    }
    const waiter = this.waiters.get(m.type);
    if (waiter) {
      this.waiters.delete(m.type);
      waiter(m);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.values()) w({ type: 'error', message: err.message });
    this.waiters.clear();
  }
}

export const profilePath = (name: string): string => path.join(PROFILE_DIR, name);
