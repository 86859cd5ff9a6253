// The HTTP API against a real RedisStore on a harness redis-server (never the system Redis), served on port 0
// and called with the global fetch. The `engine` dep is plain status data, which is all the API reads of it.
import http from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { useRedis } from '../../support/use-redis.js';
import { openStore } from '../../support/store-fixtures.js';
import { startHttpServer, type HttpServerHandle } from '../../../src/http/index.js';
import type { HttpServerDeps } from '../../../src/http/index.js';
import { EngineMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { EngineStatus } from '../../../src/engine/engine-status.js';
import type { RedisStore } from '../../../src/store/redis-store.js';
import { encodeScanCursor } from '../../../src/store/scan-cursor.js';

const TOKEN = 'test-token-0123456789abcdef';
const MAX_PAYLOAD = 1024;
const TRACE_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

// maxmemory lets one store refuse writes honestly (a tiny memoryThreshold) while the others accept.
const redis = useRedis({ maxmemory: 256 * 1024 * 1024 });

const engineStatus: EngineStatus = {
  node_id: 'london',
  state: 'running',
  cursor_error: null,
  peers: [{
    peer_id: 'paris', connected: true, circuit: 'closed', cursor: '1-0', lag_ms: 12, lag_events: 3, catching_up: false,
    paused: null, batch_size: 100, last_error: null, last_repair: { at: '2025-01-01T00:00:00.000Z', result: 'in_sync', items: 0 },
    counters: { events_read: 10, events_applied: 8, events_deduped: 1, events_rejected: 1, batches: 2, gaps: 0 },
  }],
};
const engine = { status: (): EngineStatus => engineStatus };

/** A pino logger writing into memory, to check what is (and is not) logged. */
function memoryLogger(): { logger: HttpServerDeps['logger']; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => lines.join('') };
}

let store: RedisStore;
let metrics: EngineMetrics;
let api: HttpServerHandle;
const log = memoryLogger();
const extraServers: HttpServerHandle[] = [];
const extraStores: RedisStore[] = [];

beforeAll(async () => {
  store = await openStore(redis().url, { nodeId: 'london', maxPayloadBytes: MAX_PAYLOAD });
  metrics = new EngineMetrics();
  api = await startHttpServer({ store, engine, metrics, logger: log.logger }, { listen: '127.0.0.1:0' });
});
afterAll(async () => {
  await Promise.all([api, ...extraServers].map((s) => s?.close()));
  await Promise.all([store, ...extraStores].map((s) => s?.close()));
});

async function serve(deps: Partial<HttpServerDeps>, options: { apiToken?: string; storeTimeoutMs?: number } = {}): Promise<HttpServerHandle> {
  const server = await startHttpServer({ store, engine, metrics, logger: silentLogger(), ...deps }, { listen: '127.0.0.1:0', ...options });
  extraServers.push(server);
  return server;
}

function itemUrl(key: string, base = api.url): string {
  return `${base}/v1/items/${encodeURIComponent(key)}`;
}

async function put(key: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(itemUrl(key), { method: 'PUT', body, headers });
}

async function expectError(res: Response, status: number, error: string): Promise<{ error: string; detail: string }> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: string; detail: string };
  expect(body.error).toBe(error);
  expect(typeof body.detail).toBe('string');
  return body;
}

/** A raw node:http request that can announce a body and send only part of it (fetch cannot). */
function rawRequest(url: string, opts: { method: string; headers: Record<string, string | number>; chunks: Buffer[] }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method, headers: opts.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.flushHeaders();
    for (const c of opts.chunks) req.write(c);
    // Never req.end(): the server must answer without waiting for the rest of the body.
  });
}

describe('operational routes', () => {
  it('GET /health is 200 {"status":"ok"}', async () => {
    const res = await fetch(`${api.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready is 200 when running and the store answers, 503 not_ready otherwise', async () => {
    expect((await fetch(`${api.url}/ready`)).status).toBe(200);

    const starting = await serve({ engine: { status: () => ({ ...engineStatus, state: 'starting' }) } });
    const body = await expectError(await fetch(`${starting.url}/ready`), 503, 'not_ready');
    expect(body.detail).toContain('starting');

    const noCursors = await serve({ engine: { status: () => ({ ...engineStatus, cursor_error: 'cursor file /x.db was deleted while the engine ran' }) } });
    const lost = await expectError(await fetch(`${noCursors.url}/ready`), 503, 'not_ready');
    expect(lost.detail).toContain('cursors are not persisted: cursor file /x.db was deleted');

    // A store whose Redis connection is gone: ping rejects.
    const dead = await openStore(redis().url, { nodeId: 'london' });
    await dead.close();
    const unreachable = await serve({ store: dead }, { storeTimeoutMs: 500 });
    const down = await expectError(await fetch(`${unreachable.url}/ready`), 503, 'not_ready');
    expect(down.detail).toContain('local store');
  });

  it('GET /metrics serves Prometheus text with the local write counter', async () => {
    expect((await put('metrics/k', 'x')).status).toBe(200);
    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.contentType);
    const text = await res.text();
    expect(text).toContain('replication_local_writes_total');
    expect(text).toMatch(/replication_local_writes_total\{op="put"\} [1-9]/);
  });

  it('GET /status is engine.status() plus merkle_root and keys from the store', async () => {
    await put('status/k', 'x');
    const res = await fetch(`${api.url}/status`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      node_id: 'london', state: 'running', cursor_error: null, merkle_root: await store.merkleRoot(), keys: await store.keyCount(), peers: engineStatus.peers,
    });
    expect(body.merkle_root).toMatch(/^[0-9a-f]+$/);
  });
});

describe('/v1/items', () => {
  it('PUT then GET a JSON record (Content-Type parameters ignored), with its metadata headers', async () => {
    const w1 = await put('patient/1', '{"n":1}', { 'Content-Type': 'application/json; charset=utf-8' });
    expect(w1.status).toBe(200);
    const first = (await w1.json()) as { key: string; hash: string; hlc: string; origin: string; version: number };
    expect(first).toMatchObject({ key: 'patient/1', origin: 'london', version: 1 });
    const second = (await (await put('patient/1', '{"n":2}', { 'Content-Type': 'Application/JSON' })).json()) as typeof first;
    expect(second.version).toBe(2);
    expect(second.hlc > first.hlc).toBe(true);

    const res = await fetch(itemUrl('patient/1'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-hash')).toBe(second.hash);
    expect(res.headers.get('x-hlc')).toBe(second.hlc);
    expect(res.headers.get('x-origin')).toBe('london');
    expect(res.headers.get('x-version')).toBe('2');
    expect(await res.text()).toBe('{"n":2}');
    expect((await store.get('patient/1'))?.contentType).toBe('json');

    const head = await fetch(itemUrl('patient/1'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-hash')).toBe(second.hash);
  });

  it('stores anything else as binary, bytes unchanged', async () => {
    const bytes = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 255, 10, 13]);
    expect((await put('blob', bytes, { 'Content-Type': 'text/plain' })).status).toBe(200);
    const res = await fetch(itemUrl('blob'));
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
    expect((await store.get('blob'))?.contentType).toBe('binary');

    expect((await fetch(itemUrl('empty'), { method: 'PUT' })).status).toBe(200);
    expect((await store.get('empty'))?.content.length).toBe(0);
  });

  it('carries a valid traceparent header to the record and ignores an invalid one', async () => {
    expect((await put('traced', 'x', { traceparent: TRACE_PARENT })).status).toBe(200);
    expect((await store.get('traced'))?.traceParent).toBe(TRACE_PARENT);
    expect((await put('untraced', 'x', { traceparent: 'not-a-trace' })).status).toBe(200);
    expect((await store.get('untraced'))?.traceParent).toBeUndefined();
  });

  it('round-trips keys that need encoding (slash, space, %, ?, #, +, non-ASCII)', async () => {
    for (const key of ['a/b c?d#e', '100%', 'ключ/🙂', '...', 'x+y']) {
      expect((await put(key, key)).status).toBe(200);
      const res = await fetch(itemUrl(key));
      expect(await res.text()).toBe(key);
      expect((await store.get(key))?.content.toString()).toBe(key);
    }
  });

  it('DELETE answers {key, hlc, origin}; the record is then 404', async () => {
    const written = (await (await put('gone', 'x')).json()) as { hlc: string };
    const res = await fetch(itemUrl('gone'), { method: 'DELETE' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { key: string; hlc: string; origin: string };
    expect(body).toMatchObject({ key: 'gone', origin: 'london' });
    expect(body.hlc > written.hlc).toBe(true);
    await expectError(await fetch(itemUrl('gone')), 404, 'not_found');
    await expectError(await fetch(itemUrl('never-written')), 404, 'not_found');
    const m = await metrics.localWrites.get();
    expect(m.values.find((v) => v.labels.op === 'delete')?.value).toBeGreaterThanOrEqual(1);
  });

  it('lists live records by prefix, paging with an opaque cursor that is null on the last page', async () => {
    for (let i = 0; i < 25; i++) await put(`list/${String(i).padStart(2, '0')}`, String(i));
    await put('listing-other', 'x');
    await fetch(itemUrl('list/03'), { method: 'DELETE' });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs = new URLSearchParams({ prefix: 'list/', limit: '10', ...(cursor ? { cursor } : {}) });
      const res = await fetch(`${api.url}/v1/items?${qs}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { key: string; hash: string; hlc: string; origin: string; version: number }[]; cursor: string | null };
      for (const item of page.items) expect(Object.keys(item).sort()).toEqual(['hash', 'hlc', 'key', 'origin', 'version']);
      seen.push(...page.items.map((i) => i.key));
      cursor = page.cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(24);
    expect(seen).not.toContain('list/03');
    expect(seen).toEqual([...seen].sort());

    const all = (await (await fetch(`${api.url}/v1/items`)).json()) as { items: unknown[]; cursor: string | null };
    expect(all.items.length).toBeLessThanOrEqual(100);
    expect(all.items.length).toBe(Math.min(100, await store.keyCount()));
  });
});

describe('bad input is refused before anything is written', () => {
  it('400 invalid_key: empty, over 1024 bytes, a malformed escape, an unencoded slash', async () => {
    const before = await store.keyCount();
    expect((await expectError(await fetch(`${api.url}/v1/items/`, { method: 'PUT', body: 'x' }), 400, 'invalid_key')).detail).toMatch(/empty/);
    expect((await expectError(await put('k'.repeat(1025), 'x'), 400, 'invalid_key')).detail).toMatch(/1025 bytes/);
    expect((await expectError(await fetch(`${api.url}/v1/items/%ZZ`, { method: 'PUT', body: 'x' }), 400, 'invalid_key')).detail).toMatch(/percent/);
    await expectError(await fetch(`${api.url}/v1/items/%E0%A4%A`), 400, 'invalid_key');
    await expectError(await fetch(`${api.url}/v1/items/%ED%A0%80`, { method: 'DELETE' }), 400, 'invalid_key');
    await expectError(await fetch(`${api.url}/v1/items/a/b`, { method: 'PUT', body: 'x' }), 400, 'invalid_key');
    expect(await store.keyCount()).toBe(before);
    expect((await put('k'.repeat(1024), 'x')).status).toBe(200);
  });

  it('413 payload_too_large over max_payload_bytes; exactly the limit is fine', async () => {
    const body = await expectError(await put('big', Buffer.alloc(MAX_PAYLOAD + 1)), 413, 'payload_too_large');
    expect(body.detail).toContain(String(MAX_PAYLOAD));
    expect(await store.get('big')).toBeNull();
    expect((await put('big', Buffer.alloc(MAX_PAYLOAD))).status).toBe(200);
  });

  it('413 at once when Content-Length announces too much, before any body byte is sent', async () => {
    const res = await rawRequest(itemUrl('announced'), { method: 'PUT', headers: { 'Content-Length': 10 * 1024 * 1024 }, chunks: [] });
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body)).toMatchObject({ error: 'payload_too_large' });
    expect(await store.get('announced')).toBeNull();
  });

  it('413 as soon as a chunked body passes the limit, without waiting for its end', async () => {
    const res = await rawRequest(itemUrl('streamed'), {
      method: 'PUT', headers: { 'Transfer-Encoding': 'chunked' }, chunks: [Buffer.alloc(600), Buffer.alloc(600)],
    });
    expect(res.status).toBe(413);
    expect(await store.get('streamed')).toBeNull();
  });

  it('400 invalid_json for a JSON content type with a body that is not JSON', async () => {
    for (const body of ['{bad', '', '\ufeff{}']) {
      await expectError(await put('json-bad', body, { 'Content-Type': 'application/json' }), 400, 'invalid_json');
    }
    await expectError(await put('json-bad', Buffer.from([0x22, 0xff, 0x22]), { 'Content-Type': 'application/json' }), 400, 'invalid_json');
    expect(await store.get('json-bad')).toBeNull();
  });

  it('503 not_accepting_writes with Retry-After when the store is above its memory threshold', async () => {
    const full = await openStore(redis().url, { nodeId: 'london', memoryThreshold: 1e-6 });
    extraStores.push(full);
    expect(await full.shouldAcceptWrites()).toBe(false);
    const server = await serve({ store: full });
    const res = await fetch(itemUrl('refused', server.url), { method: 'PUT', body: 'x' });
    await expectError(res, 503, 'not_accepting_writes');
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await fetch(itemUrl('refused', server.url), { method: 'DELETE' })).status).toBe(503);
    expect(await full.keyCount()).toBe(0);
    expect((await full.branchDigests()).size).toBe(0);
    // Reads still work.
    expect((await fetch(itemUrl('refused', server.url))).status).toBe(404);
  });

  it('400 for an invalid limit or cursor', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=', 'limit=1&limit=2']) {
      const res = await fetch(`${api.url}/v1/items?${q}`);
      expect(res.status, q).toBe(400);
    }
    await expectError(await fetch(`${api.url}/v1/items?limit=0`), 400, 'invalid_limit');
    await expectError(await fetch(`${api.url}/v1/items?cursor=!!`), 400, 'invalid_cursor');
    await expectError(await fetch(`${api.url}/v1/items?prefix=%ZZ`), 400, 'invalid_query');
    // A well-formed cursor from another prefix: refused by the store.
    const other = encodeScanCursor('zzz');
    await expectError(await fetch(`${api.url}/v1/items?prefix=list/&cursor=${other}`), 400, 'invalid_cursor');
  });

  it('404 for an unknown route, 405 with Allow for a wrong method', async () => {
    await expectError(await fetch(`${api.url}/nope`), 404, 'unknown_route');
    await expectError(await fetch(`${api.url}/v1/things`), 404, 'unknown_route');
    const post = await fetch(`${api.url}/health`, { method: 'POST' });
    await expectError(post, 405, 'method_not_allowed');
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const putList = await fetch(`${api.url}/v1/items`, { method: 'PUT', body: 'x' });
    expect(putList.status).toBe(405);
    expect(putList.headers.get('allow')).toBe('GET, HEAD');
    const postItem = await fetch(itemUrl('k'), { method: 'POST', body: 'x' });
    expect(postItem.status).toBe(405);
    expect(postItem.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
  });

  it('500 {error:"internal"} without a stack for an unexpected failure; logged; the server keeps serving', async () => {
    const { logger, text } = memoryLogger();
    const dead = await openStore(redis().url, { nodeId: 'london' });
    await dead.close();
    const server = await serve({ store: dead, logger });
    const res = await fetch(itemUrl('k', server.url));
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ error: 'internal' });
    expect(body).not.toMatch(/at .*\.(ts|js)/);
    expect(text()).toContain('HTTP request failed');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});

describe('api token', () => {
  it('requires the bearer token on /v1/*, keeps operational routes open, and never logs the token', async () => {
    const { logger, text } = memoryLogger();
    const server = await serve({ logger }, { apiToken: TOKEN });
    const url = itemUrl('secret-item', server.url);

    const missing = await fetch(url, { method: 'PUT', body: 'x' });
    await expectError(missing, 401, 'unauthorized');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}x` } });
    await expectError(wrong, 401, 'unauthorized');
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer.*invalid_token/);
    await expectError(await fetch(url, { headers: { Authorization: `Basic ${TOKEN}` } }), 401, 'unauthorized');
    // Auth comes first: an unauthenticated client learns nothing about routes or keys.
    await expectError(await fetch(`${server.url}/v1/nope`), 401, 'unauthorized');
    await expectError(await fetch(`${server.url}/v1/items/%ZZ`), 401, 'unauthorized');
    expect(await store.get('secret-item')).toBeNull();

    const ok = await fetch(url, { method: 'PUT', body: 'x', headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect((await fetch(url, { headers: { Authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${server.url}/v1/items`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);

    for (const route of ['/health', '/ready', '/metrics', '/status']) {
      expect((await fetch(`${server.url}${route}`)).status, route).toBe(200);
    }

    // A reloaded token applies to the next request.
    server.setApiToken(`${TOKEN}-new`);
    expect((await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}-new` } })).status).toBe(200);

    expect(text()).toContain('"status":401');
    expect(text()).not.toContain(TOKEN);
  });
});

describe('server lifecycle', () => {
  it('refuses a bad listen address and an empty token; close() is idempotent', async () => {
    const deps = { store, engine, metrics, logger: silentLogger() };
    await expect(startHttpServer(deps, { listen: '8790' })).rejects.toMatchObject({ code: 'invalid_listen' });
    await expect(startHttpServer(deps, { listen: '127.0.0.1:0', apiToken: '' })).rejects.toMatchObject({ code: 'invalid_api_token' });
    const server = await startHttpServer(deps, { listen: '127.0.0.1:0' });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    await Promise.all([server.close(), server.close()]);
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });
});
