// Vitest helper: a redis-server for the enclosing describe block (started in beforeAll, stopped in afterAll).
// Kept apart from redis-server.ts so scripts outside vitest can import the harness without the test runner.
import { afterAll, beforeAll } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer, type RedisServerOptions } from './redis-server.js';

/** Returns a getter; calling it before beforeAll has run throws. */
export function useRedis(options: RedisServerOptions = {}): () => RedisServer {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedis(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('useRedis(): the server is only available inside tests (after beforeAll)');
    return server;
  };
}

/** An ioredis client on a server from `useRedis()`, for the same describe block (register it after). */
export function useRedisClient(server: () => RedisServer): () => Redis {
  let client: Redis | undefined;
  beforeAll(() => {
    client = new Redis(server().url);
  });
  afterAll(() => {
    client?.disconnect();
  });
  return () => {
    if (!client) throw new Error('useRedisClient(): the client is only available inside tests (after beforeAll)');
    return client;
  };
}

/** `count` redis-servers started side by side for the enclosing describe block; returns a getter. */
export function useRedisServers(count: number, options: RedisServerOptions = {}): () => RedisServer[] {
  let servers: RedisServer[] | undefined;
  beforeAll(async () => {
    const started = await Promise.allSettled(Array.from({ length: count }, () => startRedis(options)));
    servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  });
  afterAll(async () => {
    await Promise.allSettled((servers ?? []).map((s) => s.stop()));
  });
  return () => {
    if (!servers) throw new Error('useRedisServers(): the servers are only available inside tests (after beforeAll)');
    return servers;
  };
}
