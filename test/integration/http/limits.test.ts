// The HTTP listener's limits against slow, stalled and abusive clients, and the item routes against a stalled
// or full local Redis: a real RedisStore on a harness redis-server, the real server on port 0, raw sockets for
// what fetch cannot do (stall mid-body, hold connections open).
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../support/use-redis.js';
import { openStore } from '../../support/store-fixtures.js';
import { waitFor } from '../../support/wait.js';
import { startHttpServer, type HttpLimits, type HttpServerHandle } from '../../../src/http/index.js';
import { EngineMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { EngineStatus } from '../../../src/engine/engine-status.js';
import type { RedisStore } from '../../../src/store/redis-store.js';

const MiB = 1024 * 1024;
const MAXMEMORY = 512 * MiB;
const redis = useRedis({ maxmemory: MAXMEMORY });
const engine = { status: (): EngineStatus => ({ node_id: 'london', state: 'running', cursor_error: null, peers: [] }) };
const servers: HttpServerHandle[] = [];
const stores: RedisStore[] = [];
const sockets: net.Socket[] = [];
let store: RedisStore;

beforeAll(async () => {
  store = await openStore(redis().url, { nodeId: 'london', maxPayloadBytes: MiB });
  stores.push(store);
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(stores.map((s) => s.close()));
});

async function serve(limits: Partial<HttpLimits>, s: RedisStore = store): Promise<HttpServerHandle> {
  const server = await startHttpServer({ store: s, engine, metrics: new EngineMetrics(), logger: silentLogger() }, { listen: '127.0.0.1:0', limits });
  servers.push(server);
  return server;
}

/** A raw connection that sends `head` (and optional body bytes) and keeps what comes back. */
async function rawSocket(port: number, data: string | Buffer): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  const parts: Buffer[] = [];
  socket.on('data', (c: Buffer) => parts.push(c));
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  if (data.length > 0) socket.write(data);
  return { socket, received: () => Buffer.concat(parts).toString('latin1'), closed };
}

/** First of: bytes from the server, or the server closing the connection. */
function firstEvent(socket: net.Socket): Promise<'data' | 'close'> {
  return new Promise((resolve) => {
    socket.once('data', () => resolve('data'));
    socket.once('close', () => resolve('close'));
  });
}

function putHead(key: string, headers: Record<string, string | number>): string {
  const lines = Object.entries({ Host: 'x', ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `PUT /v1/items/${encodeURIComponent(key)} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

async function health(url: string): Promise<number> {
  return (await fetch(`${url}/health`)).status;
}

describe('connections and timeouts', () => {
  it('closes connections over max_connections at once; a slot freed is usable again', async () => {
    const server = await serve({ maxConnections: 2 });
    const held = [await rawSocket(server.port, ''), await rawSocket(server.port, '')];
    const extra = await rawSocket(server.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    // The extra connection is closed without an answer.
    expect(await Promise.race([firstEvent(extra.socket), extra.closed.then(() => 'close' as const)])).toBe('close');
    expect(extra.received()).toBe('');
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await waitFor(async () => (await health(server.url)) === 200, { what: '/health after a slot was freed' });
  }, 15_000);

  it('answers 408 and closes a request whose headers stall (headers_timeout)', async () => {
    const server = await serve({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const conn = await rawSocket(server.port, 'GET /health HTTP/1.1\r\nHost: x\r\n');
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
  }, 15_000);

  it('answers 408 and closes a stalled upload (request_timeout), giving its body budget back', async () => {
    const server = await serve({ headersTimeoutMs: 200, requestTimeoutMs: 400, maxInflightBodyBytes: MiB });
    const conn = await rawSocket(server.port, Buffer.concat([Buffer.from(putHead('stalled', { 'Content-Length': MiB })), Buffer.alloc(1000)]));
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(await store.get('stalled')).toBeNull();
    // The whole budget is free again: a body of max_payload_bytes passes.
    const res = await fetch(`${server.url}/v1/items/after-stall`, { method: 'PUT', body: Buffer.alloc(MiB) });
    expect(res.status).toBe(200);
  }, 15_000);

  it('announces keep_alive_timeout and closes an idle keep-alive connection after it', async () => {
    const server = await serve({ keepAliveTimeoutMs: 2000 });
    const conn = await rawSocket(server.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(conn.received()).toMatch(/\r\nKeep-Alive: timeout=2\r\n/);
  }, 15_000);
});

describe('request bodies in flight are bounded in bytes (max_inflight_body_bytes)', () => {
  it('503 server_busy with Retry-After once stalled uploads hold the budget; /health still answers; freed on close', async () => {
    const server = await serve({ maxInflightBodyBytes: 2 * MiB });
    const stalled = [];
    for (const key of ['s1', 's2']) {
      const conn = await rawSocket(server.port, Buffer.concat([Buffer.from(putHead(key, { 'Content-Length': MiB })), Buffer.alloc(MiB - 10)]));
      stalled.push(conn);
    }
    // Announced: refused before a body byte is read.
    await waitFor(async () => {
      const res = await fetch(`${server.url}/v1/items/third`, { method: 'PUT', body: Buffer.alloc(1000) });
      if (res.status === 200) throw new Error('accepted while the budget should be full');
      return res.status === 503 ? res : false;
    }, { what: 'the budget to be held by the stalled uploads' }).then(async (res) => {
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: string }).error).toBe('server_busy');
    });
    // Chunked: refused at the chunk that does not fit.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${server.url}/v1/items/chunked`, { method: 'PUT', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(64 * 1024));
    });
    expect(chunked).toBe(503);
    expect(await health(server.url)).toBe(200);
    expect((await fetch(`${server.url}/v1/items/s1`)).status).toBe(404);

    for (const conn of stalled) conn.socket.destroy();
    await waitFor(async () => (await fetch(`${server.url}/v1/items/fits`, { method: 'PUT', body: Buffer.alloc(MiB) })).status === 200, {
      what: 'a full-size PUT once the stalled uploads are gone',
    });
    expect(await store.get('third')).toBeNull();
  }, 20_000);
});

describe('replies in flight count against the same budget', () => {
  // Bigger than loopback socket buffers take (up to ~36 MB here), so part of the reply stays in the server.
  const size = 64 * MiB;
  let big: RedisStore;
  beforeAll(async () => {
    big = await openStore(redis().url, { nodeId: 'london', maxPayloadBytes: size });
    stores.push(big);
    await big.put('big', Buffer.alloc(size));
  });

  /** GETs the big record, reads the first bytes (the reply is being sent), then reads nothing more. */
  async function stalledReader(port: number): Promise<net.Socket> {
    const reader = net.connect(port, '127.0.0.1');
    sockets.push(reader);
    reader.on('error', () => undefined);
    await once(reader, 'connect');
    const started = once(reader, 'data');
    reader.write('GET /v1/items/big HTTP/1.1\r\nHost: x\r\n\r\n');
    const [first] = (await started) as [Buffer];
    reader.pause();
    expect(first.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    return reader;
  }

  async function served(url: string): Promise<boolean> {
    const res = await fetch(`${url}/v1/items/big`);
    return res.status === 200 && (await res.arrayBuffer()).byteLength === size;
  }

  it('a client that does not read a big record pins its bytes until it goes: others get 503 server_busy meanwhile', async () => {
    const server = await serve({ maxInflightBodyBytes: MiB, storeTimeoutMs: 20_000 }, big);
    const reader = await stalledReader(server.port);
    const res = await fetch(`${server.url}/v1/items/big`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: string }).error).toBe('server_busy');
    reader.destroy();
    await waitFor(() => served(server.url), { what: 'the record served once the stalled reader is gone' });
  }, 30_000);
});

describe('JSON bodies are scanned, never parsed into a tree', () => {
  it('refuses nesting past max_json_depth with 400 invalid_json; accepts the limit itself', async () => {
    const server = await serve({ maxJsonDepth: 64 });
    const json = { 'Content-Type': 'application/json' };
    const ok = await fetch(`${server.url}/v1/items/deep-ok`, { method: 'PUT', headers: json, body: `${'['.repeat(64)}${']'.repeat(64)}` });
    expect(ok.status).toBe(200);
    const deep = await fetch(`${server.url}/v1/items/deep`, { method: 'PUT', headers: json, body: `${'['.repeat(100_000)}${']'.repeat(100_000)}` });
    expect(deep.status).toBe(400);
    const body = (await deep.json()) as { error: string; detail: string };
    expect(body.error).toBe('invalid_json');
    expect(body.detail).toContain('deeper than 64');
    expect(await store.get('deep')).toBeNull();
  });

  it('refuses a JSON body at its first bad byte, without waiting for the rest of it', async () => {
    const server = await serve({});
    const conn = await rawSocket(server.port, `${putHead('bad-json', { 'Content-Type': 'application/json', 'Content-Length': 100_000 })}{"a":1,,`);
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 400 /);
    expect(conn.received()).toContain('invalid_json');
    expect(conn.received()).toMatch(/at byte 7/);
  }, 15_000);
});

describe('the item routes against the local Redis', () => {
  it('503 store_timeout (Retry-After) on every item route while Redis is stalled; /health still answers', async () => {
    const server = await serve({ storeTimeoutMs: 200 });
    await fetch(`${server.url}/v1/items/paused`, { method: 'PUT', body: 'x' });
    const admin = new Redis(redis().url);
    try {
      await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
      const calls: [string, RequestInit][] = [
        ['/v1/items/paused', {}],
        ['/v1/items/paused', { method: 'PUT', body: 'y' }],
        ['/v1/items/paused', { method: 'DELETE' }],
        ['/v1/items?limit=5', {}],
      ];
      for (const [path, init] of calls) {
        const res = await fetch(`${server.url}${path}`, init);
        expect(res.status, `${init.method ?? 'GET'} ${path}`).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        expect(((await res.json()) as { error: string }).error).toBe('store_timeout');
      }
      expect(await health(server.url)).toBe(200);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
    await waitFor(async () => (await fetch(`${server.url}/v1/items/paused`)).status !== 503, { what: 'the store back after the pause' });
  }, 20_000);

  it('a Redis OOM reply before the memory poll is 503 not_accepting_writes, and /ready is 503 until the guard sees memory free', async () => {
    // A clock the test moves: the guard's cached "accepting" answer stays fresh until the clock passes its interval.
    let clock = Date.now();
    const small = await openStore(redis().url, { nodeId: 'london', memoryThreshold: 1, memoryPollIntervalMs: 60_000, now: () => clock });
    stores.push(small);
    const server = await serve({}, small);
    expect((await fetch(`${server.url}/v1/items/before`, { method: 'PUT', body: 'x' })).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);

    const filler = new Redis(redis().url);
    try {
      await filler.config('SET', 'maxmemory', '1');
      const res = await fetch(`${server.url}/v1/items/oom`, { method: 'PUT', body: 'x' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: string }).error).toBe('not_accepting_writes');
      expect(((await (await fetch(`${server.url}/ready`)).json()) as { error: string; detail: string }).detail).toMatch(/memory/);
      // The guard now refuses up front, without asking Redis to write.
      expect((await fetch(`${server.url}/v1/items/oom`, { method: 'DELETE' })).status).toBe(503);
    } finally {
      await filler.config('SET', 'maxmemory', String(MAXMEMORY));
      filler.disconnect();
    }
    clock += 60_001;
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/v1/items/oom`, { method: 'PUT', body: 'x' })).status).toBe(200);
  });

  it('400 invalid_cursor for a cursor the server did not produce (cursor=AAAA); a produced one pages on', async () => {
    const server = await serve({});
    for (const k of ['cur/a', 'cur/b', 'cur/c']) await fetch(`${server.url}/v1/items/${encodeURIComponent(k)}`, { method: 'PUT', body: k });
    for (const cursor of ['AAAA', Buffer.from('cur/a').toString('base64url'), 'A']) {
      const res = await fetch(`${server.url}/v1/items?prefix=cur%2F&cursor=${cursor}`);
      expect(res.status, cursor).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_cursor');
    }
    const first = (await (await fetch(`${server.url}/v1/items?prefix=cur%2F&limit=1`)).json()) as { cursor: string };
    const next = (await (await fetch(`${server.url}/v1/items?prefix=cur%2F&limit=2&cursor=${first.cursor}`)).json()) as { items: { key: string }[] };
    expect(next.items.map((i) => i.key)).toEqual(['cur/b', 'cur/c']);
  });
});
