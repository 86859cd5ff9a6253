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
