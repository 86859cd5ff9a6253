// A node's own Redis losing data while its daemon keeps running: FLUSHALL on the live connection, and the
// Redis restarted from an older snapshot of its AOF (an operator restoring last night's backup). Both only
// under the data-loss rule (faults.ts `underDataLossRule`), and both must be repaired from the peers by the
// running daemon: the suite waits, bounded, for the node to hold again everything acknowledged before the loss,
// and never restarts the daemon to get there.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../../support/wait.js';
import type { ClusterNode } from './cluster.js';
import { compareStamps, type Stamp } from './oracle.js';

/** Bound on a refill after a local loss (the chaos cold-path interval is 2 s; link faults last up to 8 s). */
export const REFILL_TIMEOUT_MS = 30_000;

/**
 * A copy of the node's AOF directory (Redis 7: base, incremental files and manifest). The cluster's Redis
 * never rewrites its AOF on its own (`auto-aof-rewrite-percentage 0`), so the manifest and its files stay
 * consistent while being copied; a command cut at the end of the incremental file is dropped on load
 * (`aof-load-truncated`, the default).
 */
export function snapshotAof(node: ClusterNode, intoDir: string): string {
  const source = path.join(node.server.dir, 'data', 'appendonlydir');
  const target = mkdtempSync(path.join(intoDir, `${node.id}-aof-snapshot-`));
  cpSync(source, target, { recursive: true });
  return target;
}

/** Restarts the node's Redis from `snapshot` (its daemon keeps running and reconnects). */
export async function restoreAof(node: ClusterNode, snapshot: string): Promise<void> {
  await node.server.restart({
    beforeStart: (dataDir) => {
      const aof = path.join(dataDir, 'appendonlydir');
      rmSync(aof, { recursive: true, force: true });
      cpSync(snapshot, aof, { recursive: true });
      if (!existsSync(path.join(aof, 'appendonly.aof.manifest'))) throw new Error(`${node.id}: snapshot ${snapshot} has no AOF manifest`);
    },
  });
  rmSync(snapshot, { recursive: true, force: true });
}

/** FLUSHALL on the node's live Redis (no restart: the daemon's connections stay up and see an empty store). */
export async function flushAll(node: ClusterNode): Promise<void> {
  await node.redis.flushall();
}

/**
 * Waits until `node` holds, for every key of `highWater` (the greatest acknowledged stamp per key when the data
 * was lost), a stamp at least as great; returns how long it took and how many keys were missing or older at
 * the first look (what the loss took away). Throws naming what is still missing.
 */
export async function waitForRefill(node: ClusterNode, highWater: Map<string, Stamp>, since: number): Promise<{ ms: number; lost: number }> {
  const keys = [...highWater.keys()];
  let behind: string[] = [];
  let lost: number | undefined;
  try {
    await waitFor(async () => {
      const states = await node.stamps(keys);
      behind = keys.filter((k) => {
        const st = states.get(k);
        return st === undefined || compareStamps(st, highWater.get(k)!) < 0;
      });
      lost ??= behind.length;
      return behind.length === 0;
    }, { what: `${node.id} refilled`, timeoutMs: REFILL_TIMEOUT_MS, intervalMs: 100 });
  } catch {
    throw new Error(`${node.id} not refilled ${REFILL_TIMEOUT_MS / 1000} s after losing its data with its daemon running (no restart): ` +
      `${behind.length} of ${keys.length} acknowledged keys missing or older, e.g. ${behind.slice(0, 5).join(', ')}`);
  }
  return { ms: Date.now() - since, lost: lost ?? 0 };
}
