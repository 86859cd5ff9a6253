// `replication-engine run` as a real child process (the built CLI in dist/), for daemon tests: its JSON log
// lines are collected, its HTTP address is read from the "HTTP API listening" line, and it is always killed
// when the test run ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const CLI = fileURLToPath(new URL('../../bin/replication-engine.js', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export class DaemonProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  private exit: Promise<number | null>;
  private exited = false;

  private constructor(readonly proc: ChildProcess) {
    live.add(proc);
    let buffered = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ level: 30, msg: line });
        }
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exit = new Promise((resolve) => {
      proc.once('exit', (code) => {
        this.exited = true;
        live.delete(proc);
        resolve(code);
      });
    });
  }

  /** `nodeArgs` go to node itself (e.g. `--cpu-prof`, which NODE_OPTIONS does not take); `cli` another version's CLI. */
  static spawn(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: readonly string[] = [], cli = CLI): DaemonProcess {
    const proc = spawn(process.execPath, [...nodeArgs, cli, ...args], {
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new DaemonProcess(proc);
  }

  /** Starts `run --config FILE` and resolves once its HTTP API listens and its engine runs. */
  static async run(configPath: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, nodeArgs: readonly string[] = [], cli = CLI): Promise<DaemonProcess & { url: string }> {
    const d = DaemonProcess.spawn(['run', '--config', configPath, ...extraArgs], env, nodeArgs, cli);
    const line = await d.waitForLog((l) => l.msg === 'HTTP API listening', 'HTTP API listening', 20_000);
    // The port is bound before the engine starts: a node is up once its engine runs too.
    await d.waitForLog((l) => l.msg === 'replication engine running', 'replication engine running', 20_000);
    return Object.assign(d, { url: String(line.url) });
  }

  waitForLog(match: (l: LogLine) => boolean, what: string, timeoutMs = 10_000): Promise<LogLine> {
    return waitFor(() => {
      if (this.exited) throw new Error(`daemon exited while waiting for ${what}; stderr: ${this.stderr}`);
      return this.logs.find(match) ?? null;
    }, { what: `log line: ${what}`, timeoutMs });
  }

  /** Waits for a log line that appears after the ones seen so far. */
  async waitForNewLog(match: (l: LogLine) => boolean, what: string, timeoutMs = 10_000): Promise<LogLine> {
    const seen = this.logs.length;
    return waitFor(() => this.logs.slice(seen).find(match) ?? null, { what: `new log line: ${what}`, timeoutMs });
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  /** The exit code once the process ends. */
  exitCode(): Promise<number | null> {
    return this.exit;
  }

  async kill(): Promise<void> {
    if (!this.exited) this.proc.kill('SIGKILL');
    await this.exit;
  }
}

/** Runs a CLI command to completion: its exit code and output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    proc.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
