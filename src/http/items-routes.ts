/** `/v1/items`: the application API over the local store (put, get, delete, list). */
import { isTraceParent } from '../model/trace-parent.js';
import type { ContentType } from '../model/change.js';
import { readBody } from './body.js';
import { HttpError } from './errors.js';
import { isJsonDocument, parseContentType, parseListQuery } from './parse.js';
import { jsonReply, type Reply } from './reply.js';
import type { HttpStore, RequestContext } from './types.js';

const MEDIA_TYPES: Record<ContentType, string> = { json: 'application/json', binary: 'application/octet-stream' };

export async function putItem(ctx: RequestContext, key: string): Promise<Reply> {
  const { req, deps } = ctx;
  // Everything is validated before the write: a refused request leaves nothing behind.
  const contentType = parseContentType(req.headers['content-type']);
  const content = await readBody(req, deps.store.maxPayloadBytes);
  if (contentType === 'json' && !isJsonDocument(content)) {
    throw new HttpError(400, 'invalid_json', 'Content-Type is application/json but the body is not a UTF-8 JSON document');
  }
  await assertAcceptingWrites(deps.store);
  const traceParent = req.headers.traceparent;
  // W3C Trace Context: an invalid traceparent is ignored, not an error.
  const options = typeof traceParent === 'string' && isTraceParent(traceParent) ? { contentType, traceParent } : { contentType };
  const written = await deps.store.put(key, content, options);
  deps.metrics.localWrites.labels('put').inc();
  return jsonReply(200, { key: written.key, hash: written.hash, hlc: written.hlc, origin: written.origin, version: written.version });
}

export async function getItem(ctx: RequestContext, key: string): Promise<Reply> {
  const record = await ctx.deps.store.get(key);
  if (record === null) throw new HttpError(404, 'not_found', `no live record for key ${JSON.stringify(key)}`);
  return {
    status: 200,
    headers: {
      'Content-Type': MEDIA_TYPES[record.contentType],
      'X-Hash': record.hash,
      'X-HLC': record.hlc,
      'X-Origin': record.origin,
      'X-Version': String(record.version),
    },
    body: record.content,
  };
}

export async function deleteItem(ctx: RequestContext, key: string): Promise<Reply> {
  await assertAcceptingWrites(ctx.deps.store);
  const deleted = await ctx.deps.store.delete(key);
  ctx.deps.metrics.localWrites.labels('delete').inc();
  return jsonReply(200, { key: deleted.key, hlc: deleted.hlc, origin: deleted.origin });
}

export async function listItems(ctx: RequestContext): Promise<Reply> {
  const query = parseListQuery(ctx.query);
  const page = await ctx.deps.store.scan(query);
  const items = page.items.map((r) => ({ key: r.key, hash: r.hash, hlc: r.hlc, origin: r.origin, version: r.version }));
  return jsonReply(200, { items, cursor: page.cursor });
}

async function assertAcceptingWrites(store: HttpStore): Promise<void> {
  if (!(await store.shouldAcceptWrites())) {
    throw new HttpError(503, 'not_accepting_writes', 'the local store is above its memory threshold; retry later', { 'Retry-After': '1' });
  }
}
