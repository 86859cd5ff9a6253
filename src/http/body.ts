/**
 * Reads a request body with a hard size limit and a share of the server-wide body budget:
 * refused up front when Content-Length announces too much (413) or more than the budget has
 * left (503), and reading stops at the first chunk past either. An optional inspector sees
 * each chunk as it arrives (the JSON scanner), so a bad body is refused at its first bad byte
 * and no check runs over the whole body at once.
 */
import type { IncomingMessage } from 'node:http';
import type { BodyBudget, BodyLease } from './body-budget.js';
import { HttpError } from './errors.js';
import { parseContentLength } from './parse.js';

export interface BodyOptions {
  limit: number;
  budget: BodyBudget;
  /** Throws (an HttpError) to refuse the body at this chunk. */
  inspect?: (chunk: Buffer) => void;
}

/** The bytes and the lease that accounts for them; the caller releases it once it lets go of them. */
export interface Body {
  content: Buffer;
  lease: BodyLease;
}

export function readBody(req: IncomingMessage, options: BodyOptions): Promise<Body> {
  const { limit, budget, inspect } = options;
  const announced = parseContentLength(req.headers['content-length']);
  if (announced !== null && announced > limit) return Promise.reject(tooLarge(limit));
  const lease = budget.lease();
  if (announced !== null && !lease.reserve(announced)) return Promise.reject(busy());
  return new Promise((resolve, reject) => {
    // With a Content-Length the body is copied into one buffer as it comes: no second copy at the end.
    const whole = announced === null ? null : Buffer.allocUnsafe(announced);
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const refuse = (err: unknown): void => {
      settle();
      lease.release();
      // Stop pulling from the socket; the reply closes the connection (see writeReply).
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return refuse(tooLarge(limit));
      if (!lease.reserve(size)) return refuse(busy());
      try {
        inspect?.(chunk);
      } catch (err) {
        return refuse(err);
      }
      if (whole !== null && size <= whole.length) chunk.copy(whole, size - chunk.length);
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      settle();
      resolve({ content: whole !== null && chunks.length === 0 ? whole.subarray(0, size) : Buffer.concat(chunks, size), lease });
    };
    const onGone = (): void => {
      refuse(new HttpError(400, 'request_aborted', 'the client closed the connection before the body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'payload_too_large', `the body exceeds max_payload_bytes (${limit} bytes)`);
}

function busy(): HttpError {
  return new HttpError(503, 'server_busy', 'request bodies in flight exceed http.max_inflight_body_bytes; retry later', { 'Retry-After': '1' });
}
