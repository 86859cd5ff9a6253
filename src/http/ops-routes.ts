/** Operational routes: liveness, readiness, metrics, status. Open even when a token is set. */
import { HttpError } from './errors.js';
import { jsonReply, type Reply } from './reply.js';
import { withTimeout } from './store-timeout.js';
import type { RequestContext } from './types.js';
import { errorMessage } from '../errors.js';

export function health(): Promise<Reply> {
  return Promise.resolve(jsonReply(200, { status: 'ok' }));
}

/**
 * Ready = the engine is running, the local store answers, and it accepts writes (a node that
 * refuses every PUT for memory should be taken out of a write pool), within a short timeout.
 */
export async function ready(ctx: RequestContext): Promise<Reply> {
  const { state, cursor_error: cursorError } = ctx.deps.engine.status();
  if (state !== 'running') return notReady(`engine is ${state}`);
  if (cursorError) return notReady(`cursors are not persisted: ${cursorError}`);
  let accepting: boolean;
  try {
    await withTimeout(ctx.deps.store.ping(), ctx.settings.storeTimeoutMs, 'ping');
    accepting = await withTimeout(ctx.deps.store.shouldAcceptWrites(), ctx.settings.storeTimeoutMs, 'memory check');
  } catch (err) {
    return notReady(`local store did not answer: ${messageOf(err)}`);
  }
  if (!accepting) return notReady('local store is above its memory threshold: writes are refused');
  return jsonReply(200, { status: 'ready' });
}

export async function metrics(ctx: RequestContext): Promise<Reply> {
  const { metrics: m } = ctx.deps;
  return { status: 200, headers: { 'Content-Type': m.contentType }, body: await m.text() };
}

export async function status(ctx: RequestContext): Promise<Reply> {
  const { store, engine } = ctx.deps;
  const engineStatus = engine.status();
  let root: string;
  let keys: number;
  try {
    [root, keys] = await withTimeout(Promise.all([store.merkleRoot(), store.keyCount()]), ctx.settings.storeTimeoutMs, 'status');
  } catch (err) {
    throw new HttpError(503, 'store_unavailable', `local store did not answer: ${messageOf(err)}`);
  }
  return jsonReply(200, {
    node_id: engineStatus.node_id, state: engineStatus.state, cursor_error: engineStatus.cursor_error, merkle_root: root, keys, peers: engineStatus.peers,
  });
}

function notReady(detail: string): Reply {
  return jsonReply(503, { error: 'not_ready', detail });
}

function messageOf(err: unknown): string {
  return errorMessage(err);
}
