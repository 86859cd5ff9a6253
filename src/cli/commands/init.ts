/**
 * `replication-engine init [--output FILE]`: writes the annotated example configuration
 * (every option with its default and meaning) for the operator to edit.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { errorMessage } from '../../errors.js';

export const EXAMPLE_CONFIG_URL = new URL('../../../examples/node.yaml', import.meta.url);

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write an annotated example configuration')
    .option('-o, --output <file>', 'where to write it', 'replication.yaml')
    .option('-f, --force', 'overwrite an existing file')
    .action((opts: { output: string; force?: boolean }) => {
      const text = readFileSync(EXAMPLE_CONFIG_URL, 'utf8');
      try {
        writeFileSync(opts.output, text, { flag: opts.force ? 'w' : 'wx' });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        process.stderr.write(code === 'EEXIST'
          ? `${opts.output} already exists; use --force to overwrite it\n`
          : `could not write ${opts.output}: ${errorMessage(err)}\n`);
        process.exitCode = EXIT.failure;
        return;
      }
      process.stdout.write(`wrote ${opts.output}: edit local_node_id, local and peers, then run:\n  replication-engine run --config ${opts.output}\n`);
    });
}
