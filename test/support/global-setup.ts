// Runs once per `vitest run`, in the main process. Creates the run dir where every test worker records the
// redis-server pids it starts, and on teardown kills whatever is still alive there: a worker that crashed
// (or was killed) could not stop its own servers.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reapRecordedRedis, RUN_DIR_ENV } from './redis-server.js';
import { isAlive } from './process-alive.js';

const RUN_DIR_PREFIX = 're-test-run-';

export default function setup(): () => void {
  reapAbandonedRuns();
  const runDir = mkdtempSync(path.join(os.tmpdir(), RUN_DIR_PREFIX));
  writeFileSync(path.join(runDir, 'owner'), String(process.pid));
  // Workers are forked after global setup, so they inherit this.
  process.env[RUN_DIR_ENV] = runDir;
  return () => {
    const killed = reapRecordedRedis(runDir);
    if (killed.length > 0) {
      console.warn(`global teardown: killed ${killed.length} orphaned redis-server process(es): ${killed.join(', ')}`);
    }
    rmSync(runDir, { recursive: true, force: true });
  };
}

/** Run dirs left by a vitest that died before its teardown (its owner pid is gone). Others' live runs are untouched. */
function reapAbandonedRuns(): void {
  let names: string[];
  try {
    names = readdirSync(os.tmpdir()).filter((n) => n.startsWith(RUN_DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(os.tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(path.join(dir, 'owner'), 'utf8'));
    } catch {
      continue; // being created right now, or not ours
    }
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      reapRecordedRedis(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

