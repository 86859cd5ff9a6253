// The daemon as users run it: `replication-engine run` child processes against real redis-servers,
// driven through the HTTP API and signals; `verify` as a command.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compareStreamIds } from '../../../src/cdc/stream-id.js';
import { loadConfigFile } from '../../../src/config/load.js';
import { RedisStore } from '../../../src/store/redis-store.js';
import { DaemonProcess, runCli } from '../../support/daemon-process.js';
import { waitFor } from '../../support/wait.js';
import { useRedisServers } from '../../support/use-redis.js';

const N = 3;
const ids = Array.from({ length: N }, (_, i) => `site-${i}`);

describe('daemon: three nodes as child processes', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-daemon-'));
  const servers = useRedisServers(N);
  const daemons: (DaemonProcess & { url: string })[] = [];
  const configPath = (i: number): string => path.join(tmp, `node-${i}.yaml`);
  const cursorPath = (i: number): string => path.join(tmp, `cursors-${i}.db`);

  function writeConfig(i: number, peers: number[], extra: Record<string, unknown> = {}): void {
    const doc = {
      replication: {
        local_node_id: ids[i],
        local: { redis_url: servers()[i]!.url, redis_prefix: `s${i}:` },
        http: { listen: '127.0.0.1:0' },
        settings: { hot_path: { block_timeout: '200ms' }, cold_path: { enabled: false } },
        peers: peers.map((j) => ({ node_id: ids[j], redis_url: servers()[j]!.url, redis_prefix: `s${j}:`, circuit_reset_timeout_sec: 1 })),
        cursor: { sqlite_path: cursorPath(i) },
        ...extra,
      },
    };
    writeFileSync(configPath(i), stringify(doc));
  }

  const put = async (i: number, key: string, body: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${daemons[i]!.url}/v1/items/${encodeURIComponent(key)}`, { method: 'PUT', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const get = async (i: number, key: string): Promise<Response> => fetch(`${daemons[i]!.url}/v1/items/${encodeURIComponent(key)}`);
  const peersOf = async (i: number): Promise<string[]> => {
    const s = (await (await fetch(`${daemons[i]!.url}/status`)).json()) as { peers: { peer_id: string }[] };
    return s.peers.map((p) => p.peer_id).sort();
  };

  beforeAll(async () => {
    // site-0 starts with only site-1 as a peer; the others form a full mesh.
    writeConfig(0, [1]);
    writeConfig(1, [0, 2]);
    writeConfig(2, [0, 1]);
    for (let i = 0; i < N; i++) daemons.push(await DaemonProcess.run(configPath(i), i === 0 ? ['--no-watch'] : []));
  });
  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.kill()));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('replicates a write made through one node HTTP API to the others', async () => {
    const w = await put(1, 'patient/7', '{"ward":"B"}');
    for (const i of [0, 2]) {
      const res = await waitFor(async () => {
        const r = await get(i, 'patient/7');
        return r.status === 200 ? r : null;
      }, { what: `patient/7 on site-${i}` });
      expect(await res.text()).toBe('{"ward":"B"}');
      expect(res.headers.get('x-hlc')).toBe(w.hlc);
      expect(res.headers.get('x-origin')).toBe('site-1');
    }
  });

  it('status prints the node and its peers as a table', async () => {
    const r = await runCli(['status', '--url', daemons[1]!.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^node site-1 {2}state running {2}keys \d+ {2}root [0-9a-f]{16}/);
    expect(r.stdout).toMatch(/^PEER +LINK +CIRCUIT +LAG +STATE +CURSOR +LAST REPAIR$/m);
    expect(r.stdout).toMatch(/^site-0 +up +closed /m);
    expect(r.stdout).toMatch(/^site-2 +up +closed /m);
    const down = await runCli(['status', '--url', 'http://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot read status from http://127.0.0.1:1');
  });

  it('applies a new peer list on SIGHUP', async () => {
    expect(await peersOf(0)).toEqual(['site-1']);
    writeConfig(0, [1, 2]);
    daemons[0]!.signal('SIGHUP');
    await daemons[0]!.waitForLog((l) => l.msg === 'configuration reloaded', 'configuration reloaded');
    expect(await peersOf(0)).toEqual(['site-1', 'site-2']);
  });

  it('refuses an invalid reload and keeps the old configuration working', async () => {
    writeFileSync(configPath(0), 'replication:\n  local_node_id: 42\n  peers: nope\n');
    daemons[0]!.signal('SIGHUP');
    const refused = await daemons[0]!.waitForNewLog((l) => l.msg.startsWith('configuration reload refused'), 'reload refused');
    expect(String(refused.reason)).toContain('replication.local_node_id');
    expect(await peersOf(0)).toEqual(['site-1', 'site-2']);
    await put(2, 'after-bad-reload', '{"still":"working"}');
    await waitFor(async () => (await get(0, 'after-bad-reload')).status === 200, { what: 'after-bad-reload on site-0' });
    writeConfig(0, [1, 2]);
  });

  it('reloads when the file changes (watch)', async () => {
    expect(await peersOf(2)).toEqual(['site-0', 'site-1']);
    writeConfig(2, [1]);
    await daemons[2]!.waitForNewLog((l) => l.msg === 'configuration reloaded', 'reload on file change');
    expect(await peersOf(2)).toEqual(['site-1']);
  });

  it('applies store limits live, and refuses a reload that needs a restart', async () => {
    writeConfig(2, [1], { store: { max_payload_bytes: 64 } });
    await daemons[2]!.waitForNewLog((l) => l.msg === 'configuration reloaded', 'reload with a small payload limit');
    const big = await fetch(`${daemons[2]!.url}/v1/items/big`, { method: 'PUT', body: 'x'.repeat(100) });
    expect(big.status).toBe(413);

    writeConfig(2, [1], { store: { max_payload_bytes: 64 }, cursor: { sqlite_path: path.join(tmp, 'elsewhere.db') } });
    const refused = await daemons[2]!.waitForNewLog((l) => l.msg.startsWith('configuration reload refused'), 'restart-only change refused');
    expect(String(refused.reason)).toContain('replication.cursor');
    expect(await peersOf(2)).toEqual(['site-1']);
    writeConfig(2, [1]);
    await daemons[2]!.waitForNewLog((l) => l.msg === 'configuration reloaded', 'back to the original file');
  });

  it('exits 0 on SIGTERM with its cursors persisted', async () => {
    await put(1, 'last-before-stop', '{}');
    await waitFor(async () => (await get(0, 'last-before-stop')).status === 200, { what: 'last-before-stop on site-0' });
    const status = (await (await fetch(`${daemons[0]!.url}/status`)).json()) as { peers: { peer_id: string; cursor: string }[] };
    const cursorOfSite1 = status.peers.find((p) => p.peer_id === 'site-1')!.cursor;
    daemons[0]!.signal('SIGTERM');
    expect(await daemons[0]!.exitCode()).toBe(0);
    const db = new Database(cursorPath(0), { readonly: true });
    try {
      const row = db.prepare('SELECT stream_id FROM cursors WHERE peer_id = ?').get('site-1') as { stream_id: string } | undefined;
      expect(row?.stream_id).toBeDefined();
      // Saved at least as far as what /status reported before the stop.
      expect(compareStreamIds(row!.stream_id, cursorOfSite1)).toBeGreaterThanOrEqual(0);
    } finally {
      db.close();
    }
  });

  it('verify exits 0 on a converged mesh and 1 listing the key on a diverged one', async () => {
    for (const d of daemons.slice(1)) {
      d.signal('SIGTERM');
      expect(await d.exitCode()).toBe(0);
    }
    writeConfig(1, [0, 2]);
    const ok = await runCli(['verify', '--config', configPath(1)]);
    expect(ok.stdout).toContain('site-0: in sync');
    expect(ok.stdout).toContain('site-2: in sync');
    expect(ok.code).toBe(0);

    // A write on site-2 that nobody replicates (every daemon is stopped).
    const store = await RedisStore.connect({ url: servers()[2]!.url, prefix: 's2:', nodeId: 'site-2' });
    await store.put('only-on-2', Buffer.from('diverged'));
    await store.close();
    const diverged = await runCli(['verify', '--config', configPath(1)]);
    expect(diverged.code).toBe(1);
    expect(diverged.stdout).toContain('site-0: in sync');
    expect(diverged.stdout).toMatch(/only-on-2: peer wins/);
  });

  it('init writes an example configuration that loads, and will not overwrite it', async () => {
    const out = path.join(tmp, 'init.yaml');
    const first = await runCli(['init', '--output', out]);
    expect(first.code).toBe(0);
    const config = await loadConfigFile(out);
    expect(config.local_node_id).toBe('uk.node.london-1');
    const again = await runCli(['init', '--output', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });

  it('refuses an invalid configuration at start with exit 2, naming the file and the field', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    writeFileSync(bad, stringify({ replication: { local_node_id: 'x', local: { redis_url: 'http://nope' }, peers: [] } }));
    const r = await runCli(['run', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toContain('replication.local.redis_url');
  });
});
