/**
 * The clients the engine opens (src/redis/connect.ts) survive a socket that errors more than once:
 * ioredis listens for a socket's first error only (redis/ioredis#961), and an 'error' event nobody
 * listens to is thrown — an uncaught exception that would stop the engine. Seen in CI as a TLS
 * peer's alert arriving after the client had refused the peer's certificate.
 */
import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { useRedis } from '../../support/use-redis.js';
import { startRedis } from '../../support/redis-server.js';
import { createRedisClient, redisOptionsFor } from '../../../src/redis/connect.js';
import { freeLoopbackPort } from '../../../src/demo/redis-process.js';
import { RedisStore } from '../../../src/store/redis-store.js';
import { waitFor } from '../../support/wait.js';

const redis = useRedis();

const socketOf = (client: Redis): Socket => (client as unknown as { stream: Socket }).stream;

describe('Redis clients', () => {
  it('a second error on a socket is absorbed, and the client keeps working', async () => {
    const client = createRedisClient({ redis_url: redis().url });
    const seen: string[] = [];
    client.on('error', (err: Error) => seen.push(err.message));
    try {
      await client.ping();
      const socket = socketOf(client);
      expect(() => socket.emit('error', new Error('first'))).not.toThrow();
      expect(() => socket.emit('error', new Error('late TLS alert'))).not.toThrow();
      expect(seen).toContain('first');
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('a plain ioredis client, for comparison, throws on the second error', async () => {
    const options = redisOptionsFor({ redis_url: redis().url });
    delete options.Connector;
    const client = new Redis(options);
    client.on('error', () => undefined);
    try {
      await client.ping();
      const socket = socketOf(client);
      socket.emit('error', new Error('first'));
      expect(() => socket.emit('error', new Error('late TLS alert'))).toThrow('late TLS alert');
    } finally {
      client.disconnect();
    }
  });
});

describe('the local store at start-up', () => {
  it('against a dead Redis fails at once, naming host:port and the refusal', async () => {
    const port = await freeLoopbackPort();
    await expect(RedisStore.connect({ url: `redis://127.0.0.1:${port}`, prefix: 'x:', nodeId: 'n' })).rejects.toMatchObject({
      code: 'redis_unavailable',
      message: `cannot connect to the local Redis at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });

  it('with a wrong password fails at once with the server\'s answer, never the password', async () => {
    const secured = await startRedis({ password: 'right-one' });
    try {
      const err = await RedisStore.connect({ url: secured.urlFor({ password: 'wrong-one' }), prefix: 'x:', nodeId: 'n' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'redis_unavailable' });
      expect((err as Error).message).toMatch(new RegExp(`^cannot connect to the local Redis at 127\\.0\\.0\\.1:${secured.port}: WRONGPASS`));
      expect((err as Error).message).not.toContain('wrong-one');
    } finally {
      await secured.stop();
    }
  });
});

describe('the local store when its Redis restarts', () => {
  it('fails a call the dropped connection left unanswered instead of waiting forever, and works again after', async () => {
    const own = await startRedis({ persistence: true });
    let clock = 1_000_000;
    const store = await RedisStore.connect({ url: own.url, prefix: 'r:', nodeId: 'n', now: () => clock });
    const admin = new Redis(own.url).on('error', () => undefined); // it sees the restart too
    try {
      await store.put('k', Buffer.from('before'));
      // Redis holds the next command unanswered while paused; the restart then drops the connection under it.
      await admin.call('CLIENT', 'PAUSE', '30000', 'ALL');
      const outcome = (call: Promise<unknown>): Promise<string | undefined> => call.then(
        () => 'answered',
        (err: unknown) => (err as { code?: string }).code,
      );
      const read = outcome(store.get('k'));
      clock += 60_000; // the memory guard's next question goes to Redis (the engine's backpressure check)
      const memory = outcome(store.shouldAcceptWrites());
      await own.restart();
      expect(await read).toBe('store_connection_lost');
      expect(await memory).toBe('store_connection_lost');
      await waitFor(async () => (await store.get('k').catch(() => null))?.content.toString() === 'before', { what: 'the store answering again' });
      clock += 60_000;
      expect(await store.shouldAcceptWrites()).toBe(true); // not the poll the dropped connection left behind
    } finally {
      admin.disconnect();
      await store.close();
      await own.stop();
    }
  });
});
