// The CLI as scripts and operators use it: `check` (validates, touches nothing), `status --json`,
// `status --watch` (timestamped frames), `verify --json`, NO_COLOR on a terminal, and the HTTP port
// bound before any peer is contacted.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { RedisStore } from '../../../src/store/redis-store.js';
import { CLI, DaemonProcess, runCli } from '../../support/daemon-process.js';
import type { RedisServer } from '../../support/redis-server.js';
import { waitFor } from '../../support/wait.js';
import { useRedis } from '../../support/use-redis.js';

const SEED_EXAMPLE = new URL('../../fixtures/seed-example.yaml', import.meta.url).pathname;
const EXAMPLE = new URL('../../../examples/node.yaml', import.meta.url).pathname;
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

/** A TCP listener that counts the connections it is offered: proof that a command connected to nothing. */
async function connectionCounter(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    count: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function connectionsReceived(server: RedisServer): Promise<number> {
  const client = new Redis(server.url);
  try {
    const info = await client.info('stats');
    return Number(/total_connections_received:(\d+)/.exec(info)![1]);
  } finally {
    client.disconnect();
  }
}

describe('CLI: check', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-check-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('accepts the annotated example and the seed layout without a local section', async () => {
    const example = await runCli(['check', '--config', EXAMPLE]);
    expect(example.stderr).toBe('');
    expect(example.code).toBe(0);
    const seed = await runCli(['check', '--config', SEED_EXAMPLE]);
    expect(seed.code).toBe(0);
    expect(seed.stdout).toContain('local: redis://127.0.0.1:6379 prefix "uk.node.london-1:" (defaults');
  });

  it('connects to nothing and creates no file', async () => {
    const local = await connectionCounter();
    const peer = await connectionCounter();
    const cursorFile = path.join(tmp, 'cursors.db');
    const configFile = path.join(tmp, 'node.yaml');
    writeFileSync(configFile, stringify({
      replication: {
        local_node_id: 'check-a',
        local: { redis_url: local.url, redis_prefix: 'a:' },
        http: { listen: '127.0.0.1:0' },
        peers: [{ node_id: 'check-b', redis_url: peer.url }],
        cursor: { sqlite_path: cursorFile },
      },
    }));
    try {
      const r = await runCli(['check', '--config', configFile]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('valid');
      expect(local.count() + peer.count()).toBe(0);
      expect(existsSync(cursorFile)).toBe(false);
    } finally {
      await local.close();
      await peer.close();
    }
  });

  it('exits 2 naming the field, and prints no secret', async () => {
    const configFile = path.join(tmp, 'bad.yaml');
    writeFileSync(configFile, 'replication:\n  local_node_id: "n1"\n  local: { redis_url: "redis://u:hunter2@127.0.0.1:6390" }\n  settings: { hot_path: { batch_size: 0 } }\n');
    const r = await runCli(['check', '--config', configFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('replication.settings.hot_path.batch_size');
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stdout).toBe('');
  });

  it('exits 2 for a missing file', async () => {
    const r = await runCli(['check', '--config', path.join(tmp, 'absent.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('file not found');
  });
});

describe('CLI against a running node', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-cli-'));
  const a = useRedis();
  const b = useRedis();
  let daemon: DaemonProcess & { url: string };
  const configA = path.join(tmp, 'a.yaml');

  const nodeConfig = (extra: { listen?: string; peers?: boolean } = {}): Record<string, unknown> => ({
    replication: {
      local_node_id: 'cli-a',
      local: { redis_url: a().url, redis_prefix: 'a:' },
      http: { listen: extra.listen ?? '127.0.0.1:0' },
      settings: { hot_path: { block_timeout: '200ms' }, cold_path: { enabled: false } },
      peers: extra.peers === false ? [] : [{ node_id: 'cli-b', redis_url: b().url, redis_prefix: 'b:' }],
      cursor: { sqlite_path: path.join(tmp, `cursors-${Math.random().toString(36).slice(2)}.db`) },
    },
  });

  beforeAll(async () => {
    writeFileSync(configA, stringify(nodeConfig()));
    daemon = await DaemonProcess.run(configA, ['--no-watch']);
  });
  afterAll(async () => {
    await daemon?.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('status --json prints the /status document', async () => {
    const r = await runCli(['status', '--json', '--url', daemon.url]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { node_id: string; peers: { peer_id: string }[]; merkle_root: string };
    expect(doc.node_id).toBe('cli-a');
    expect(doc.peers.map((p) => p.peer_id)).toEqual(['cli-b']);
    expect(doc.merkle_root).toMatch(/^[0-9a-f]+$/);
  });

  it('status --watch prints the time of every frame', async () => {
    const proc = spawn(process.execPath, [CLI, 'status', '--watch', '--interval', '0.1', '--url', daemon.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    try {
      await waitFor(() => (out.match(new RegExp(ISO_TIME.source, 'g')) ?? []).length >= 2, { what: 'two watch frames' });
      const frames = out.split(daemon.url).slice(1);
      expect(frames[0]).toMatch(new RegExp(`^  every 0.1s  ${ISO_TIME.source}`));
      // Piped output is not a terminal: frames follow each other, no screen clearing.
      expect(out).not.toContain('\x1b[');
    } finally {
      proc.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('verify --json reports each peer, and exits 1 while they differ', async () => {
    const store = await RedisStore.connect({ url: a().url, prefix: 'a:', nodeId: 'cli-a' });
    try {
      await store.put('only/on-a', Buffer.from('{"x":1}'), { contentType: 'json' });
    } finally {
      await store.close();
    }
    const r = await runCli(['verify', '--json', '--config', configA]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { node_id: string; in_sync: boolean; peers: Record<string, unknown>[] };
    expect(doc).toMatchObject({ node_id: 'cli-a', in_sync: false });
    expect(doc.peers).toHaveLength(1);
    expect(doc.peers[0]).toMatchObject({ peer_id: 'cli-b', in_sync: false, divergent_keys: 1, local_wins: 1, peer_wins: 0 });
    expect((doc.peers[0]!.keys as { key: string }[])[0]!.key).toBe('only/on-a');
  });

  it('fails on a port in use before contacting any peer', async () => {
    const { port } = new URL(daemon.url);
    const busy = path.join(tmp, 'busy.yaml');
    writeFileSync(busy, stringify(nodeConfig({ listen: `127.0.0.1:${port}` })));
    const before = await connectionsReceived(b());
    const d = DaemonProcess.spawn(['run', '--no-watch', '--config', busy]);
    expect(await d.exitCode()).toBe(1);
    expect(d.stderr).toContain('EADDRINUSE');
    expect(d.logs.map((l) => l.msg)).not.toContain('replication engine running');
    // Our own INFO connection is the only new one the peer saw.
    expect(await connectionsReceived(b())).toBe(before + 1);
  });

  it('honours NO_COLOR on a terminal', async () => {
    const cfg = path.join(tmp, 'tty.yaml');
    const { port } = new URL(daemon.url);
    // Exits by itself (port in use) after logging its first lines in the readable format.
    writeFileSync(cfg, stringify(nodeConfig({ listen: `127.0.0.1:${port}`, peers: false })));
    const inTerminal = (env: NodeJS.ProcessEnv): Promise<string> =>
      new Promise((resolve) => {
        // `script` gives the command a pseudo-terminal, as an operator's shell would.
        const command = `${process.execPath} ${CLI} run --no-watch --config ${cfg}`;
        const proc = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
        proc.once('exit', () => resolve(out));
      });
    const colored = await inTerminal({ NO_COLOR: '' });
    expect(colored).toContain('starting replication-engine');
    expect(colored).toContain('\x1b[');
    const plain = await inTerminal({ NO_COLOR: '1' });
    expect(plain).toContain('starting replication-engine');
    expect(plain).not.toContain('\x1b[');
  });
});
