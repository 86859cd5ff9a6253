/**
 * Reads a request body with a hard size limit: refused up front when Content-Length
 * announces too much, and reading stops at the first chunk past the limit. Never buffers
 * more than `limit` bytes.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';
import { parseContentLength } from './parse.js';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const announced = parseContentLength(req.headers['content-length']);
  if (announced !== null && announced > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        settle();
        // Stop pulling from the socket; the reply closes the connection (see writeReply).
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      settle();
      resolve(Buffer.concat(chunks, size));
    };
    const onGone = (): void => {
      settle();
      reject(new HttpError(400, 'request_aborted', 'the client closed the connection before the body ended'));
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
