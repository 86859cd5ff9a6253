#!/usr/bin/env node
// `npm run chaos [-- --long] [-- --seed N] [-- --seeds N] [-- --nodes N] [-- --faults K1,K2] [-- --report FILE]`: runs the convergence
// suite (test/chaos) through vitest with the profile in the environment, since vitest keeps argv for itself.
//   quick (default): 3 nodes, seed 1 — what CI runs.
//   --long: 50 seeds (1001…1050), 3-5 nodes each, longer schedules.
//   --from N: the first seed of the run (with --seeds: a range, e.g. to split the long profile in two).
//   --seed N: replay seed N only (with --long: the long profile's schedule for it). Same as CHAOS_SEED=N.
//   --faults K1,K2: only these fault kinds (test/chaos/support/faults.ts FAULT_KINDS) plus the final partition.
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
const env = { ...process.env };
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = () => {
    const v = args[++i];
    if (v === undefined) {
      console.error(`${arg} needs a value`);
      process.exit(2);
    }
    return v;
  };
  if (arg === '--long') env.CHAOS_LONG = '1';
  else if (arg === '--seed') env.CHAOS_SEED = value();
  else if (arg === '--seeds') env.CHAOS_SEEDS = value();
  else if (arg === '--from') env.CHAOS_FIRST_SEED = value();
  else if (arg === '--nodes') env.CHAOS_NODES = value();
  else if (arg === '--report') env.CHAOS_REPORT = value();
  else if (arg === '--faults') env.CHAOS_FAULTS = value();
  else {
    console.error(`unknown option ${arg}; see scripts/chaos.mjs`);
    process.exit(2);
  }
}

const child = spawn('npx', ['vitest', 'run', '--config', 'vitest.chaos.config.ts'], { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
