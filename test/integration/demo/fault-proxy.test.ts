// The fault proxy (src/demo/fault-proxy.ts) against a real Redis: each mode, cuts, latency, retargeting.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../../src/demo/fault-proxy.js';
import { startRedis } from '../../support/redis-server.js';
import { useRedis } from '../../support/use-redis.js';
import { useClients } from '../../support/clients.js';
import { nextEvent } from '../../support/wait.js';

const { connected, connectFailure } = useClients();

describe('fault proxy', () => {
  const redis = useRedis();
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: redis().port });
  });
  afterAll(async () => {
    await proxy.close();
  });
  afterEach(() => {
    proxy.setMode('pass');
    proxy.setLatency(0);
    proxy.setTarget('127.0.0.1', redis().port);
  });

  it('passes traffic', async () => {
    expect(proxy.url()).toBe(`redis://127.0.0.1:${proxy.port}`);
    const c = await connected(proxy.url());
    await c.set('via-proxy', 'ok');
    expect(await c.get('via-proxy')).toBe('ok');
    expect(proxy.connectionCount).toBe(1);
  });

  it('refuse: new connections fail', async () => {
    proxy.setMode('refuse');
    await expect(connected(proxy.url()).then((c) => c.ping())).rejects.toThrow();
    expect(proxy.connectionCount).toBe(0);
  });

  it('blackhole: commands hang until the client times out, then a fresh connection works after pass', async () => {
    const c = await connected(proxy.url(), { commandTimeout: 300 });
    expect(await c.ping()).toBe('PONG');
    proxy.setMode('blackhole');
    await expect(c.get('via-proxy')).rejects.toThrow(/Command timed out/);
    // New connections are accepted but swallowed too: the connect's ready check never gets an answer.
    expect((await connectFailure(proxy.url(), { commandTimeout: 300 })).message).toMatch(/Command timed out/);

    proxy.setMode('pass');
    const fresh = await connected(proxy.url(), { commandTimeout: 2_000 });
    expect(await fresh.ping()).toBe('PONG');
  });

  it('cutOff: open connections are reset and new ones refused until pass', async () => {
    const c = await connected(proxy.url());
    expect(await c.ping()).toBe('PONG');
    const error = nextEvent<[NodeJS.ErrnoException]>(c, 'error', { what: 'client error after cutOff' });
    proxy.cutOff();
    expect((await error)[0].code).toBe('ECONNRESET');
    expect(proxy.mode).toBe('refuse');
    await expect(connected(proxy.url()).then((fresh) => fresh.ping())).rejects.toThrow();
    proxy.setMode('pass');
    expect(await (await connected(proxy.url())).ping()).toBe('PONG');
  });

  it('cutConnections: the client sees ECONNRESET', async () => {
    const c = await connected(proxy.url());
    expect(await c.ping()).toBe('PONG');
    const error = nextEvent<[NodeJS.ErrnoException]>(c, 'error', { what: 'client error after cut' });
    const closed = nextEvent(c, 'close', { what: 'client close after cut' });
    proxy.cutConnections();
    const [err] = await error;
    expect(err.code).toBe('ECONNRESET');
    await closed;
    expect(proxy.connectionCount).toBe(0);
  });

  it('latency: replies stay correct and in order', async () => {
    proxy.setLatency(15);
    const c = await connected(proxy.url());
    await c.del('counter');
    const pipeline = c.pipeline();
    for (let i = 0; i < 50; i++) pipeline.incr('counter');
    const results = await pipeline.exec();
    expect(results?.map(([err, value]) => [err, value])).toEqual(Array.from({ length: 50 }, (_, i) => [null, i + 1]));
    // Changing latency mid-stream must not reorder bytes.
    const pending = Array.from({ length: 20 }, (_, i) => c.echo(`m${i}`));
    proxy.setLatency(0);
    expect(await Promise.all(pending)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('setTarget: fresh connections go to the new target', async () => {
    const other = await startRedis();
    try {
      const direct = await connected(other.url);
      await direct.set('which', 'other');
      proxy.setTarget('127.0.0.1', other.port);
      const c = await connected(proxy.url());
      expect(await c.get('which')).toBe('other');
    } finally {
      await other.stop();
    }
  });

  it('a stopped target looks like a reset connection', async () => {
    const other = await startRedis();
    proxy.setTarget('127.0.0.1', other.port);
    await other.stop();
    await expect(connected(proxy.url()).then((c) => c.ping())).rejects.toThrow();
  });
});
