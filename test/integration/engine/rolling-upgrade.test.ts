// A rolling upgrade from store format v3 to v4 (docs/operations.md: upgrading): a mesh of three
// nodes runs the last v3 release (built from git history), then each node in turn is stopped and
// started on this version, which migrates its store in place. Through every mixed state, writes
// and deletes made on any node reach every other node, and at the end every store is v4 with the
// same root.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TREE_FORMAT, TREE_FORMAT_V3 } from '../../../src/merkle/tree-shape.js';
import { DaemonProcess } from '../../support/daemon-process.js';
import { STORE_V3_RELEASE, previousReleaseCli } from '../../support/previous-release.js';
import { useRedisServers } from '../../support/use-redis.js';
import { waitFor } from '../../support/wait.js';

const N = 3;
const ids = Array.from({ length: N }, (_, i) => `city-${i}`);

describe('rolling upgrade, store format v3 → v4', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-upgrade-'));
  const servers = useRedisServers(N);
  const daemons: (DaemonProcess & { url: string })[] = [];
  const configPath = (i: number): string => path.join(tmp, `node-${i}.yaml`);
  let v3Cli = '';
  /** What every node must end up holding: key → body, or null for deleted. */
  const expected = new Map<string, string | null>();

  beforeAll(() => {
    v3Cli = previousReleaseCli(STORE_V3_RELEASE);
    for (let i = 0; i < N; i++) {
      writeFileSync(configPath(i), stringify({
        replication: {
          local_node_id: ids[i],
          local: { redis_url: servers()[i]!.url, redis_prefix: `c${i}:` },
          http: { listen: '127.0.0.1:0' },
          settings: { hot_path: { block_timeout: '200ms' } },
          peers: [0, 1, 2].filter((j) => j !== i).map((j) => ({
            node_id: ids[j], redis_url: servers()[j]!.url, redis_prefix: `c${j}:`, circuit_reset_timeout_sec: 1,
          })),
          cursor: { sqlite_path: path.join(tmp, `cursors-${i}.db`) },
        },
      }));
    }
  }, 180_000);
  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.kill()));
    rmSync(tmp, { recursive: true, force: true });
  });

  const item = (i: number, key: string): string => `${daemons[i]!.url}/v1/items/${encodeURIComponent(key)}`;
  async function put(i: number, key: string, body: string): Promise<void> {
    const res = await fetch(item(i, key), { method: 'PUT', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expected.set(key, body);
  }
  async function del(i: number, key: string): Promise<void> {
    const res = await fetch(item(i, key), { method: 'DELETE' });
    expect(res.status).toBe(200);
    expected.set(key, null);
  }
  /** Writes on every node: new keys, overwrites and deletes of keys another node wrote earlier. */
  async function writeRound(round: number): Promise<void> {
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < 20; k++) await put(i, `r${round}/n${i}/${k}`, JSON.stringify({ round, node: i, k }));
      if (round > 0) {
        const earlier = `r${round - 1}/n${(i + 1) % N}`;
        await put(i, `${earlier}/0`, JSON.stringify({ overwritten: round, by: i }));
        await del(i, `${earlier}/1`);
      }
    }
  }
  async function expectConverged(what: string): Promise<void> {
    await waitFor(async () => {
      for (const [key, body] of expected) {
        for (let i = 0; i < N; i++) {
          const res = await fetch(item(i, key));
          const got = res.status === 200 ? await res.text() : (await res.arrayBuffer(), null);
          if (got !== body) return null;
        }
      }
      return true;
    }, { what, timeoutMs: 30_000 });
  }
  async function formatOf(i: number): Promise<string | null> {
    const r = new Redis(servers()[i]!.url);
    try {
      return await r.hget(`c${i}:m:meta`, 'format');
    } finally {
      r.disconnect();
    }
  }

  it('keeps every write flowing both ways while the nodes move one by one to v4, and ends with equal roots', async () => {
    for (let i = 0; i < N; i++) daemons.push(await DaemonProcess.run(configPath(i), [], {}, [], v3Cli));
    await writeRound(0);
    await expectConverged('the v3 mesh converged');
    expect(await formatOf(0)).toBe(TREE_FORMAT_V3);

    for (let i = 0; i < N; i++) {
      daemons[i]!.signal('SIGTERM');
      expect(await daemons[i]!.exitCode()).toBe(0);
      daemons[i] = await DaemonProcess.run(configPath(i));
      expect(daemons[i]!.logs.some((l) => l.msg === 'store: store format migrated to v4')).toBe(true);
      expect(await formatOf(i)).toBe(TREE_FORMAT);
      await writeRound(i + 1);
      await expectConverged(`the mesh converged with ${i + 1} of ${N} nodes on v4`);
    }

    const roots = await Promise.all(servers().map(async (s, i) => {
      const r = new Redis(s.url);
      try {
        return await r.hget(`c${i}:m:meta`, 'root');
      } finally {
        r.disconnect();
      }
    }));
    expect(new Set(roots).size).toBe(1);
    expect(roots[0]).toMatch(/^[0-9a-f]{40}$/);
  });
});
