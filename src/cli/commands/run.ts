/**
 * `replication-engine run --config FILE`: the daemon in the foreground. Exit 0 after a
 * graceful stop (SIGTERM/SIGINT), 2 when the configuration is invalid, 1 on a start failure.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../config/config-error.js';
import { Daemon } from '../../daemon/daemon.js';
import { EXIT } from '../exit-codes.js';
import { errorMessage } from '../../errors.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a replication node from a YAML configuration (reloads on SIGHUP and file change)')
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('--no-watch', 'do not reload when the file changes (SIGHUP still reloads)')
    .action(async (opts: { config: string; watch: boolean }) => {
      process.exitCode = await runDaemon(opts.config, opts.watch);
    });
}

export async function runDaemon(configPath: string, watch: boolean): Promise<number> {
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ configPath, watch });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`invalid configuration:\n${err.message}\n`);
      return EXIT.config;
    }
    process.stderr.write(`could not start: ${errorMessage(err)}\n`);
    return EXIT.failure;
  }
  return new Promise<number>((resolve) => {
    const onHup = (): void => void daemon.reload('SIGHUP');
    const onStop = (signal: NodeJS.Signals): void => {
      daemon.logger.info({ signal }, 'stop requested');
      process.off('SIGHUP', onHup);
      daemon.shutdown().then(
        () => resolve(EXIT.ok),
        (err: unknown) => {
          daemon.logger.error({ err }, 'shutdown failed');
          resolve(EXIT.failure);
        },
      );
    };
    process.on('SIGHUP', onHup);
    process.once('SIGTERM', onStop);
    process.once('SIGINT', onStop);
  });
}
