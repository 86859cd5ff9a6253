// Vitest helper: ioredis clients that never retry or queue (failures surface as rejections instead of hanging),
// disconnected after each test of the file that registers them.
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, expect } from 'vitest';
import { nextEvent } from './wait.js';

export interface Clients {
  /** A connected client. */
  connected(url: string, extra?: RedisOptions): Promise<Redis>;
  /** Connects expecting failure; returns the cause the client reported (connect() itself only says "closed"). */
  connectFailure(url: string, extra?: RedisOptions): Promise<Error>;
}

export function useClients(): Clients {
  const clients = new Set<Redis>();
  afterEach(() => {
    for (const c of clients) c.disconnect();
    clients.clear();
  });
  const client = (url: string, extra: RedisOptions = {}): Redis => {
    const c = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, ...extra });
    c.on('error', () => {
      // asserted through rejections / explicit listeners
    });
    clients.add(c);
    return c;
  };
  return {
    async connected(url, extra = {}) {
      const c = client(url, extra);
      await c.connect();
      return c;
    },
    async connectFailure(url, extra = {}) {
      const c = client(url, extra);
      const reported = nextEvent<[Error]>(c, 'error', { what: `a connection error from ${url}` });
      await expect(c.connect()).rejects.toThrow();
      const [err] = await reported;
      return err;
    },
  };
}
