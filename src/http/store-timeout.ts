/**
 * A deadline on every wait for the local Redis. ioredis queues commands while its connection
 * is stalled or reconnecting, so without one a request hangs as long as the store does. A call
 * that times out is not cancelled: a write may still be applied later (the reply says so).
 */
import { HttpError } from './errors.js';

export class StoreTimeoutError extends Error {
  constructor(readonly what: string, readonly ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/** Rejects with StoreTimeoutError after `ms`; the late outcome of `promise` is still observed. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(what, ms)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** withTimeout for the item routes: a timeout is `503 store_timeout` with Retry-After. */
export async function withStoreDeadline<T>(promise: Promise<T>, ms: number, what: string, write = false): Promise<T> {
  try {
    return await withTimeout(promise, ms, what);
  } catch (err) {
    if (!(err instanceof StoreTimeoutError)) throw err;
    const outcome = write ? '; the write may still be applied' : '';
    throw new HttpError(503, 'store_timeout', `the local store did not answer ${what} within ${ms} ms${outcome}`, { 'Retry-After': '1' });
  }
}
