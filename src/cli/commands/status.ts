/**
 * `replication-engine status [--url U] [--watch]`: the node and its peers as a table, read
 * from a running node's `/status`; `--watch` redraws it every interval until Ctrl-C.
 */
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { renderStatus, type StatusJson } from '../status-table.js';

const DEFAULT_URL = 'http://127.0.0.1:8790';

export async function fetchStatus(baseUrl: string): Promise<StatusJson> {
  const url = new URL('/status', baseUrl);
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url.href} answered ${res.status}`);
  return (await res.json()) as StatusJson;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("show a running node's peers, lag, circuits and repairs")
    .option('-u, --url <url>', 'the node HTTP address', DEFAULT_URL)
    .option('-w, --watch', 'refresh until interrupted')
    .option('-i, --interval <seconds>', 'refresh interval with --watch', '2')
    .action(async (opts: { url: string; watch?: boolean; interval: string }) => {
      const once = async (): Promise<boolean> => {
        try {
          const text = renderStatus(await fetchStatus(opts.url));
          process.stdout.write(opts.watch ? `\x1b[2J\x1b[H${text}\n` : `${text}\n`);
          return true;
        } catch (err) {
          process.stderr.write(`cannot read status from ${opts.url}: ${err instanceof Error ? err.message : String(err)}\n`);
          return false;
        }
      };
      if (!opts.watch) {
        process.exitCode = (await once()) ? EXIT.ok : EXIT.failure;
        return;
      }
      const seconds = Number(opts.interval);
      const everyMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 2000;
      await once();
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => void once(), everyMs);
        process.once('SIGINT', () => {
          clearInterval(timer);
          resolve();
        });
      });
    });
}
