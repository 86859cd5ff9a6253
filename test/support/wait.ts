// Waiting helpers for tests. Prefer awaiting an event; `waitFor` is the bounded poll for conditions that have
// none (e.g. "the replicated key appears on node B").
import type { EventEmitter } from 'node:events';

export interface WaitForOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Pause between probes. Default 25 ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what: string;
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastError?: unknown,
  ) {
    super(
      `timed out after ${timeoutMs} ms waiting for ${what}` +
        (lastError === undefined ? '' : ` (last probe error: ${lastError instanceof Error ? lastError.message : String(lastError)})`),
      { cause: lastError },
    );
    this.name = 'WaitTimeoutError';
  }
}

type Falsy = undefined | false | null;

/**
 * Polls `probe` until it returns a value other than undefined/false/null, and returns that value.
 * A probe that throws counts as "not yet" (the node may be restarting); the last error is reported on timeout.
 */
export async function waitFor<T>(probe: () => Promise<T | Falsy> | T | Falsy, options: WaitForOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(options.what, timeoutMs, lastError);
    await delay(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** Resolves with the event's arguments the next time `emitter` emits `event`; rejects after `timeoutMs`. */
export function nextEvent<A extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<A> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise<A>((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new WaitTimeoutError(options.what ?? `event '${event}'`, timeoutMs));
    }, timeoutMs);
    emitter.once(event, listener);
  });
}

/**
 * Settles like `promise`, or rejects with a WaitTimeoutError after `timeoutMs`: a guard so a hung operation
 * fails the test with a message instead of hitting the test timeout.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeoutError(what, timeoutMs)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
