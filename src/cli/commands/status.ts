/**
 * `replication-engine status [--url U] [--watch] [--json]`: the node and its peers as a table, read
 * from a running node's `/status`; `--watch` redraws it every interval until Ctrl-C, under a line with
 * the time it was read; `--json` prints the `/status` document itself (one line per read) for scripts.
 */
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { renderStatus, type StatusJson } from '../status-table.js';
import { errorMessage } from '../../errors.js';

const DEFAULT_URL = 'http://127.0.0.1:8790';

export async function fetchStatus(baseUrl: string): Promise<StatusJson> {
  const url = new URL('/status', baseUrl);
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url.href} answered ${res.status}`);
  return (await res.json()) as StatusJson;
}

/** The header of each `--watch` frame: where from, how often, and when this frame was read. */
export function watchHeader(url: string, everyMs: number, at: Date): string {
  return `${url}  every ${everyMs / 1000}s  ${at.toISOString()}`;
}

interface StatusOptions {
  url: string;
  watch?: boolean;
  interval: string;
  json?: boolean;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show a running node's peers, lag, circuits and repairs")
    .option('-u, --url <url>', 'the node HTTP address', DEFAULT_URL)
    .option('-w, --watch', 'refresh until interrupted')
    .option('-i, --interval <seconds>', 'refresh interval with --watch', '2')
    .option('--json', "print the node's /status JSON (one line per refresh with --watch)")
    .action(async (opts: StatusOptions) => {
      const seconds = Number(opts.interval);
      const everyMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 2000;
      // Redraw in place only on a terminal; piped output gets one frame after another.
      const redraw = opts.watch === true && opts.json !== true && process.stdout.isTTY === true;
      const once = async (): Promise<boolean> => {
        try {
          const status = await fetchStatus(opts.url);
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(status)}\n`);
          } else {
            const text = renderStatus(status);
            const frame = opts.watch ? `${watchHeader(opts.url, everyMs, new Date())}\n\n${text}\n` : `${text}\n`;
            process.stdout.write(redraw ? `\x1b[2J\x1b[H${frame}` : frame);
          }
          return true;
        } catch (err) {
          process.stderr.write(`cannot read status from ${opts.url}: ${errorMessage(err)}\n`);
          return false;
        }
      };
      if (!opts.watch) {
        process.exitCode = (await once()) ? EXIT.ok : EXIT.failure;
        return;
      }
      await once();
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => void once(), everyMs);
        const stop = (): void => {
          clearInterval(timer);
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
