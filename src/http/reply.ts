/**
 * What a handler returns: status, headers and body as a value. Handlers never touch the
 * response object, so exactly one place (`writeReply`) decides how a reply goes on the wire.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

export function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  // The client went away (or something already answered): nothing left to say.
  if (res.headersSent || res.destroyed || req.socket.destroyed) return;
  const body = reply.body ?? '';
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  // Answering before the body was read (413, 401, 404…): close rather than let Node drain an
  // unbounded body from the socket to reuse the connection.
  if (hasUnreadBody(req)) res.setHeader('Connection', 'close');
  res.end(body);
}

function hasUnreadBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  const announced = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  return announced && !req.readableEnded;
}
