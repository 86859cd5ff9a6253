/**
 * The `replication-engine` command line. Each command lives in its own module under
 * src/cli/commands; this file only wires them into commander.
 */
import { Command, CommanderError } from 'commander';
import { registerCheck } from './commands/check.js';
import { registerDemo } from './commands/demo.js';
import { registerInit } from './commands/init.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerVerify } from './commands/verify.js';
import { packageVersion } from '../version.js';

export function buildProgram(): Command {
  const program = new Command('replication-engine')
    .description('Mesh replication agent for Redis-backed nodes: CDC stream tailing (hot path) + Merkle anti-entropy (cold path).')
    .version(packageVersion())
    .exitOverride();
  registerRun(program);
  registerCheck(program);
  registerDemo(program);
  registerStatus(program);
  registerVerify(program);
  registerInit(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 1 ? 2 : err.exitCode;
    throw err;
  }
}
