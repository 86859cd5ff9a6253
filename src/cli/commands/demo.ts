/**
 * `replication-engine demo [--quick] [--keep]`: three nodes on local redis-servers — writes,
 * a cut, a heal, convergence (see src/demo/run-demo.ts). Exit 0 when the nodes converged,
 * 1 when they did not (or redis-server is missing), 130 when interrupted.
 */
import type { Command } from 'commander';
import { EXIT_INTERRUPTED, runDemo } from '../../demo/run-demo.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a three-node mesh on local redis-servers: writes, a network cut, a heal, convergence')
    .option('--quick', 'a shorter run (CI)')
    .option('--keep', 'keep the temp dir (configurations, logs, cursor files) and print its path')
    .action(async (opts: { quick?: boolean; keep?: boolean }) => {
      const controller = new AbortController();
      // First signal: stop cleanly (nodes, then redis-servers, then temp files). A second one
      // exits at once; the launcher's exit hook still kills the redis-servers.
      const onSignal = (): void => {
        if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
        controller.abort();
      };
      for (const s of STOP_SIGNALS) process.on(s, onSignal);
      try {
        const result = await runDemo({ quick: opts.quick === true, keep: opts.keep === true, signal: controller.signal });
        process.exitCode = result.exitCode;
      } finally {
        for (const s of STOP_SIGNALS) process.off(s, onSignal);
      }
    });
}
