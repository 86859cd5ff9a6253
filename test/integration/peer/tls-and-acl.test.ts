// Peers behind TLS (rediss://, a test CA made with openssl) and behind ACL users with passwords: the engine
// replicates through both, and a wrong secret is reported without ever being logged.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import { createLogger } from '../../../src/observability/logger.js';
import { RedisStore } from '../../../src/store/redis-store.js';
import { waitFor } from '../../support/wait.js';
import { freeLoopbackPort } from '../../../src/demo/redis-process.js';
import { useRedis } from '../../support/use-redis.js';

const SECRET = 'correct-horse-battery-staple';

describe('secure peers', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-secure-'));
  const plain = useRedis();
  const tls = useRedis({ tls: true });
  const acl = useRedis({ password: 'admin-secret', aclUser: { username: 'replicator', password: SECRET } });
  let local: RedisStore;
  let tlsStore: RedisStore;
  let aclStore: RedisStore;
  let engine: ReplicationEngine;
  const logged: string[] = [];

  beforeAll(async () => {
    const tlsFiles = { ca_file: tls().tls!.caFile, reject_unauthorized: true };
    local = await RedisStore.connect({ url: plain().url, prefix: 'l:', nodeId: 'local' });
    tlsStore = await RedisStore.connect({ url: tls().url, endpoint: { tls: tlsFiles }, prefix: 't:', nodeId: 'tls-peer' });
    aclStore = await RedisStore.connect({ url: acl().urlFor({ username: 'replicator', password: SECRET }), prefix: 'a:', nodeId: 'acl-peer' });
    const config = parseConfig({
      local_node_id: 'local',
      local: { redis_url: plain().url, redis_prefix: 'l:' },
      settings: { hot_path: { block_timeout: '200ms' }, cold_path: { enabled: false } },
      peers: [
        { node_id: 'tls-peer', redis_url: tls().url, redis_prefix: 't:', tls: tlsFiles },
        { node_id: 'acl-peer', redis_url: acl().url.replace(/\/\/.*@/, '//'), redis_prefix: 'a:', username: 'replicator', password: SECRET },
      ],
      cursor: { sqlite_path: path.join(tmp, 'cursors.db') },
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    engine = new ReplicationEngine(config, { store: local, logger: createLogger({ level: 'debug', pretty: false, destination: sink }) });
    await engine.start();
  });
  afterAll(async () => {
    await engine?.shutdown();
    await Promise.allSettled([local?.close(), tlsStore?.close(), aclStore?.close()]);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('replicates from a TLS-only redis-server over rediss://', async () => {
    expect(tls().url.startsWith('rediss://')).toBe(true);
    const w = await tlsStore.put('over-tls', Buffer.from('encrypted in transit'));
    const rec = await waitFor(() => local.get('over-tls'), { what: 'over-tls on the local node' });
    expect(rec).toMatchObject({ hlc: w.hlc, origin: 'tls-peer' });
    expect(engine.status().peers.find((p) => p.peer_id === 'tls-peer')?.connected).toBe(true);
  });

  it('replicates from a peer as an ACL user with a password, and never logs the password', async () => {
    const w = await aclStore.put('over-acl', Buffer.from('authenticated'));
    const rec = await waitFor(() => local.get('over-acl'), { what: 'over-acl on the local node' });
    expect(rec).toMatchObject({ hlc: w.hlc, origin: 'acl-peer' });
    expect(logged.join('')).not.toContain(SECRET);
  });

  it('a TLS peer whose CA we do not trust never connects, and the engine keeps running', async () => {
    const untrusted = parseConfig({
      ...engine.configuration,
      settings: engine.configuration.settings,
      peers: [
        ...engine.configuration.peers.filter((p) => p.node_id !== 'tls-peer'),
        { node_id: 'tls-peer', redis_url: tls().url, redis_prefix: 't:', tls: { reject_unauthorized: true } },
      ],
    });
    await engine.updateConfig(untrusted);
    await waitFor(() => engine.status().peers.find((p) => p.peer_id === 'tls-peer')?.last_error ?? null, {
      what: 'a TLS error reported for the untrusted peer',
    });
    expect(engine.status().peers.find((p) => p.peer_id === 'tls-peer')?.connected).toBe(false);
    expect(engine.state).toBe('running');
  });

  it('a wrong password, an untrusted certificate and a refused port each show their cause and host:port in status', async () => {
    const refusedPort = await freeLoopbackPort();
    const broken = parseConfig({
      ...engine.configuration,
      settings: engine.configuration.settings,
      peers: [
        { node_id: 'tls-peer', redis_url: tls().url, redis_prefix: 't:', tls: { reject_unauthorized: true } },
        { node_id: 'acl-peer', redis_url: acl().url.replace(/\/\/.*@/, '//'), redis_prefix: 'a:', username: 'replicator', password: 'not-the-secret' },
        { node_id: 'gone-peer', redis_url: `redis://127.0.0.1:${refusedPort}`, redis_prefix: 'g:' },
      ],
    });
    await engine.updateConfig(broken);
    const expected: Record<string, RegExp> = {
      'acl-peer': new RegExp(`^peer acl-peer at 127\\.0\\.0\\.1:${acl().port}: not connected: WRONGPASS`),
      'tls-peer': new RegExp(`^peer tls-peer at 127\\.0\\.0\\.1:${tls().port}: not connected: .*certificate`, 'i'),
      'gone-peer': new RegExp(`^peer gone-peer at 127\\.0\\.0\\.1:${refusedPort}: not connected: connect ECONNREFUSED`),
    };
    for (const [peerId, pattern] of Object.entries(expected)) {
      await waitFor(() => pattern.test(engine.status().peers.find((p) => p.peer_id === peerId)?.last_error ?? ''), {
        what: `${peerId}'s status naming its address and cause (last: ${engine.status().peers.find((p) => p.peer_id === peerId)?.last_error})`,
      });
    }
    expect(logged.join('')).not.toContain('not-the-secret');
    // ioredis's "gave up on this command" errors (calls refused while down) are neither the cause nor logged as one.
    const failures = logged.filter((line) => line.includes('peer connection failed'));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.join('')).not.toMatch(/Stream isn't writeable|Reached the max retries/);
  });

  it('names the cause of a connection that is down even when nothing has called the peer yet', async () => {
    // No tailer reads, no pings, no cold path: only the connection itself can say why it is down
    // (as for a tailer waiting out its backoff or an open circuit when its credentials were changed).
    const quietStore = await RedisStore.connect({ url: plain().url, prefix: 'q:', nodeId: 'quiet' });
    const quiet = new ReplicationEngine(
      parseConfig({
        local_node_id: 'quiet',
        local: { redis_url: plain().url, redis_prefix: 'q:' },
        settings: { hot_path: { enabled: false }, cold_path: { enabled: false }, peer_health: { enabled: false } },
        peers: [{ node_id: 'acl-peer', redis_url: acl().url.replace(/\/\/.*@/, '//'), redis_prefix: 'a:', username: 'replicator', password: 'not-the-secret' }],
        cursor: { sqlite_path: path.join(tmp, 'quiet-cursors.db') },
      }),
      { store: quietStore },
    );
    await quiet.start();
    try {
      const pattern = new RegExp(`^peer acl-peer at 127\\.0\\.0\\.1:${acl().port}: not connected: WRONGPASS`);
      await waitFor(() => pattern.test(quiet.status().peers[0]?.last_error ?? ''), {
        what: `the down connection's cause in status (last: ${quiet.status().peers[0]?.last_error})`,
      });
    } finally {
      await quiet.shutdown();
      await quietStore.close();
    }
  });
});
