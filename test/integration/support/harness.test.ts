// The test harness itself, against real processes: redis-server lifecycle and options, TLS, orphan protection.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  reapRecordedRedis,
  RUN_DIR_ENV,
  serverRecordFile,
  startRedis,
  stopAllRedis,
  type RedisServer,
} from '../../support/redis-server.js';
import { useRedis } from '../../support/use-redis.js';
import { waitFor } from '../../support/wait.js';
import { isAlive } from '../../support/process-alive.js';
import { useClients } from '../../support/clients.js';

const { connected, connectFailure } = useClients();

function connectRaw(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}

describe('startRedis: plain server', () => {
  const redis = useRedis();

  it('serves SET/GET on a loopback port that is not 6379', async () => {
    const s = redis();
    expect(s.host).toBe('127.0.0.1');
    expect(s.port).not.toBe(6379);
    expect(s.url).toBe(`redis://127.0.0.1:${s.port}`);
    expect(s.running).toBe(true);
    const c = await connected(s.url);
    await c.set('k', 'v');
    expect(await c.get('k')).toBe('v');
  });

  it('has persistence off by default', async () => {
    const c = await connected(redis().url);
    expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await c.config('GET', 'save')).toEqual(['save', '']);
  });

  it('records its pid in the run dir set up by global setup', () => {
    expect(process.env[RUN_DIR_ENV]).toBeTruthy();
    const file = serverRecordFile(redis())!;
    expect(path.dirname(file)).toBe(process.env[RUN_DIR_ENV]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ pid: redis().pid, dir: redis().dir });
  });
});

describe('startRedis: auth', () => {
  const redis = useRedis({ password: 'p@ss:word', aclUser: { username: 'app', password: 's3cret' } });

  it('accepts the default user with the password from url', async () => {
    const c = await connected(redis().url);
    expect(await c.ping()).toBe('PONG');
  });

  it('accepts the ACL user', async () => {
    const c = await connected(redis().urlFor({ username: 'app', password: 's3cret' }));
    expect(await c.call('ACL', 'WHOAMI')).toBe('app');
    await c.set('acl-key', '1');
    expect(await c.get('acl-key')).toBe('1');
  });

  it('rejects a wrong password and a missing one', async () => {
    const s = redis();
    expect((await connectFailure(s.urlFor({ password: 'wrong' }))).message).toMatch(/WRONGPASS/);
    expect((await connectFailure(s.urlFor({ username: 'app', password: 'wrong' }))).message).toMatch(/WRONGPASS/);
    expect((await connectFailure(s.urlFor())).message).toMatch(/NOAUTH/);
  });
});

describe('startRedis: maxmemory', () => {
  const redis = useRedis({ maxmemory: 8 * 1024 * 1024 });

  it('sets maxmemory with noeviction', async () => {
    const c = await connected(redis().url);
    expect(await c.config('GET', 'maxmemory')).toEqual(['maxmemory', String(8 * 1024 * 1024)]);
    expect(await c.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  });
});

describe('startRedis: persistence, restart, kill', () => {
  const redis = useRedis({ persistence: true });

  it('keeps data across restart({ keepData: true }) on the same port', async () => {
    const s = redis();
    const port = s.port;
    const c = await connected(s.url);
    await c.set('durable', 'yes');
    c.disconnect();
    await s.restart({ keepData: true });
    expect(s.port).toBe(port);
    const c2 = await connected(s.url);
    expect(await c2.get('durable')).toBe('yes');
  });

  it('keeps acknowledged writes across a SIGKILL crash (appendfsync always)', async () => {
    const s = redis();
    const c = await connected(s.url);
    await c.set('crash-safe', '1');
    c.disconnect();
    await s.kill();
    expect(s.running).toBe(false);
    expect(s.pid).toBeUndefined();
    await s.restart();
    const c2 = await connected(s.url);
    expect(await c2.get('crash-safe')).toBe('1');
  });

  it('loses all data on restart({ keepData: false })', async () => {
    const s = redis();
    const c = await connected(s.url);
    await c.set('doomed', '1');
    c.disconnect();
    await s.restart({ keepData: false });
    const c2 = await connected(s.url);
    expect(await c2.get('doomed')).toBeNull();
    expect(await c2.dbsize()).toBe(0);
  });

  it('refuses connections on its port after kill()', async () => {
    const s = redis();
    await s.kill();
    await expect(connectRaw(s.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await s.restart();
    await connectRaw(s.port);
  });
});

describe('startRedis: TLS', () => {
  const redis = useRedis({ tls: true });

  it('is reachable over rediss:// with the CA, with or without a client cert', async () => {
    const s = redis();
    expect(s.url).toBe(`rediss://127.0.0.1:${s.port}`);
    const tls = s.tls!;
    const c = await connected(s.url, { tls: { ca: tls.ca } });
    expect(await c.ping()).toBe('PONG');
    const withCert = await connected(s.url, { tls: { ca: tls.ca, cert: tls.cert, key: tls.key } });
    expect(await withCert.ping()).toBe('PONG');
  });

  it('rejects a plain-text client', async () => {
    const s = redis();
    await expect(connected(`redis://127.0.0.1:${s.port}`).then((c) => c.ping())).rejects.toThrow();
  });

  it('rejects a TLS client that does not trust the CA', async () => {
    expect((await connectFailure(redis().url, { tls: {} })).message).toMatch(/certificate/i);
  });
});

describe('startRedis: failures', () => {
  it('fails fast with the log tail when redis-server rejects its config', async () => {
    await expect(startRedis({ maxmemory: -1 })).rejects.toThrow(/before it was ready[\s\S]*maxmemory/);
  });

  it('names the package to install when redis-server is missing', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startRedis()).rejects.toThrow(/apt-get install redis-server/);
    } finally {
      process.env.PATH = saved;
    }
  });
});

describe('orphan protection', () => {
  it('reapRecordedRedis kills a server recorded in a run dir (a crashed worker) and removes its dir', async () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), 're-test-harness-'));
    const saved = process.env[RUN_DIR_ENV];
    process.env[RUN_DIR_ENV] = runDir;
    let s: RedisServer;
    try {
      s = await startRedis();
    } finally {
      process.env[RUN_DIR_ENV] = saved;
    }
    try {
      const pid = s.pid!;
      expect(readdirSync(runDir)).toEqual([path.basename(serverRecordFile(s)!)]);
      expect(reapRecordedRedis(runDir)).toEqual([pid]);
      await waitFor(() => !s.running, { what: 'the reaped redis-server to exit', timeoutMs: 10_000 });
      expect(isAlive(pid)).toBe(false);
      expect(existsSync(s.dir)).toBe(false);
      expect(readdirSync(runDir)).toEqual([]);
    } finally {
      await s.stop();
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it('stopAllRedis stops every server this process started', async () => {
    const servers = await Promise.all([startRedis(), startRedis({ persistence: true }), startRedis({ tls: true })]);
    const pids = servers.map((s) => s.pid!);
    expect(pids.every(isAlive)).toBe(true);
    await stopAllRedis();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(servers.map((s) => s.running)).toEqual([false, false, false]);
    expect(servers.filter((s) => existsSync(s.dir))).toEqual([]);
    expect(servers.filter((s) => existsSync(serverRecordFile(s)!))).toEqual([]);
    // idempotent
    await servers[0]!.stop();
    await stopAllRedis();
  });
});
