/** `/v1/items`: the application API over the local store (put, get, delete, list). */
import { isTraceParent } from '../model/trace-parent.js';
import type { ContentType } from '../model/change.js';
import type { Key } from '../model/key.js';
import { readBody } from './body.js';
import { HttpError } from './errors.js';
import { JsonScanner } from './json-scan.js';
import { parseContentType, parseListQuery } from './parse.js';
import { jsonReply, type Reply } from './reply.js';
import { withStoreDeadline } from './store-timeout.js';
import type { HttpStore, RequestContext } from './types.js';

const MEDIA_TYPES: Record<ContentType, string> = { json: 'application/json', binary: 'application/octet-stream' };

export async function putItem(ctx: RequestContext, key: Key): Promise<Reply> {
  const { req, deps, settings } = ctx;
  // Everything is validated before the write: a refused request leaves nothing behind.
  const contentType = parseContentType(req.headers['content-type']);
  // JSON is checked as it arrives, never parsed into a tree (json-scan.ts).
  const scanner = contentType === 'json' ? new JsonScanner(settings.maxJsonDepth) : null;
  const inspect = scanner === null ? undefined : (chunk: Buffer): void => {
    const problem = scanner.write(chunk);
    if (problem !== null) throw invalidJson(problem);
  };
  const { content, lease } = await readBody(req, { limit: deps.store.maxPayloadBytes, budget: ctx.budget, inspect });
  let written;
  try {
    const problem = scanner?.end() ?? null;
    if (problem !== null) throw invalidJson(problem);
    await assertAcceptingWrites(ctx);
    const traceParent = req.headers.traceparent;
    // The key was checked by the router, the body's size by readBody, the content type above: the store
    // checks nothing again. W3C Trace Context: an invalid traceparent is ignored, not an error.
    const checked = { key, content, contentType, traceParent: typeof traceParent === 'string' && isTraceParent(traceParent) ? traceParent : '' as const };
    // The body stays counted in the budget until Redis has answered, even after a timeout:
    // writes queued behind a stalled Redis are memory too.
    const write = deps.store.putChecked(checked);
    write.then(() => lease.release(), () => lease.release());
    written = await withStoreDeadline(write, settings.storeTimeoutMs, 'the write', true);
  } catch (err) {
    lease.release();
    throw err;
  }
  deps.metrics.localWrites.labels('put').inc();
  return jsonReply(200, { key: written.key, hash: written.hash, hlc: written.hlc, origin: written.origin, version: written.version });
}

export async function getItem(ctx: RequestContext, key: string): Promise<Reply> {
  const record = await withStoreDeadline(ctx.deps.store.get(key), ctx.settings.storeTimeoutMs, 'the read');
  if (record === null) throw new HttpError(404, 'not_found', `no live record for key ${JSON.stringify(key)}`);
  return {
    status: 200,
    headers: {
      'Content-Type': MEDIA_TYPES[record.contentType],
      'X-Hash': record.hash,
      'X-HLC': record.hlc,
      'X-Origin': record.origin,
      'X-Version': String(record.version),
      // The W3C trace context the write was made under, as stored with the record.
      ...(record.traceParent ? { traceparent: record.traceParent } : {}),
    },
    body: record.content,
  };
}

export async function deleteItem(ctx: RequestContext, key: Key): Promise<Reply> {
  await assertAcceptingWrites(ctx);
  const deleted = await withStoreDeadline(ctx.deps.store.deleteChecked(key), ctx.settings.storeTimeoutMs, 'the delete', true);
  ctx.deps.metrics.localWrites.labels('delete').inc();
  return jsonReply(200, { key: deleted.key, hlc: deleted.hlc, origin: deleted.origin });
}

export async function listItems(ctx: RequestContext): Promise<Reply> {
  const query = parseListQuery(ctx.query);
  const page = await withStoreDeadline(ctx.deps.store.scan(query), ctx.settings.storeTimeoutMs, 'the listing');
  const items = page.items.map((r) => ({ key: r.key, hash: r.hash, hlc: r.hlc, origin: r.origin, version: r.version }));
  return jsonReply(200, { items, cursor: page.cursor });
}

async function assertAcceptingWrites(ctx: RequestContext): Promise<void> {
  const store: HttpStore = ctx.deps.store;
  if (!(await withStoreDeadline(store.shouldAcceptWrites(), ctx.settings.storeTimeoutMs, 'the memory check'))) {
    throw notAcceptingWrites();
  }
}

export function notAcceptingWrites(): HttpError {
  return new HttpError(503, 'not_accepting_writes', 'the local store is above its memory threshold; retry later', { 'Retry-After': '1' });
}

function invalidJson(problem: string): HttpError {
  return new HttpError(400, 'invalid_json', `Content-Type is application/json but the body is not a UTF-8 JSON document: ${problem}`);
}
