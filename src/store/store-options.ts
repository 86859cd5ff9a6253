/**
 * What a RedisStore is made with, and the checks of its limits: applied at construction and again
 * by `updateLimits` on a configuration reload, where a bad value must change nothing.
 */
import type { Redis } from 'ioredis';
import { ValidationError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { RedisEndpoint } from '../redis/connect.js';
import { MAX_APPLY_BYTES_LIMIT } from './commands/apply-chunks.js';

/** Largest max_future_skew accepted: a year. Beyond it the bound protects nothing. */
export const MAX_FUTURE_SKEW_LIMIT_MS = 366 * 24 * 3600 * 1000;

export interface RedisStoreOptions {
  nodeId: string;
  /** Key prefix of this node's namespace, e.g. "london:". */
  prefix?: string;
  /** Where to connect (ignored when `redis` is given). */
  url?: string;
  endpoint?: Omit<RedisEndpoint, 'redis_url'>;
  /** An existing client; the store then does not close it. */
  redis?: Redis;
  maxPayloadBytes?: number;
  /** Packed bytes per apply script call. Default 32 MiB. */
  maxApplyBytes?: number;
  /** Content bytes a scan page holds at most (a larger record alone). Default 32 MiB. */
  maxScanBytes?: number;
  cdcMaxlen?: number;
  /** Re-emit applied replicated changes to this node's stream (docs/wire-format.md). Default true. */
  emitReplicated?: boolean;
  tombstoneTtlMs?: number;
  /**
   * A received change stamped further ahead of the wall clock is refused ('future': not applied,
   * the clock not moved), and the store's clock never runs further ahead. Default 60 s.
   */
  maxFutureSkewMs?: number;
  /** Refuse writes above this fraction of maxmemory. Default 0.9. */
  memoryThreshold?: number;
  memoryPollIntervalMs?: number;
  /** Wall clock, injectable for tests. */
  now?: () => number;
  /** Bound on the first connection (TCP, TLS, AUTH, ready check) when the store makes its own client. Default 10 s. */
  connectTimeoutMs?: number;
  logger?: Logger;
}

/** The limits a configuration reload may change. */
export type StoreLimits = Pick<
  RedisStoreOptions,
  'maxPayloadBytes' | 'maxApplyBytes' | 'cdcMaxlen' | 'emitReplicated' | 'tombstoneTtlMs' | 'memoryThreshold' | 'memoryPollIntervalMs' | 'maxFutureSkewMs'
>;

/** Every limit given, checked; throws a ValidationError naming the first bad field, before anything is applied. */
export function checkedLimits(limits: StoreLimits): StoreLimits {
  for (const field of ['maxPayloadBytes', 'cdcMaxlen', 'tombstoneTtlMs'] as const) {
    const value = limits[field];
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new ValidationError('invalid_option', field, 'must be a positive integer');
  }
  return {
    ...limits,
    ...(limits.maxFutureSkewMs === undefined ? {} : { maxFutureSkewMs: checkedSkew(limits.maxFutureSkewMs) }),
    ...(limits.memoryThreshold === undefined ? {} : { memoryThreshold: checkedThreshold(limits.memoryThreshold) }),
    ...(limits.memoryPollIntervalMs === undefined ? {} : { memoryPollIntervalMs: checkedPollInterval(limits.memoryPollIntervalMs) }),
    ...(limits.maxApplyBytes === undefined ? {} : { maxApplyBytes: checkedApplyBytes(limits.maxApplyBytes) }),
  };
}

export function checkedThreshold(threshold: number): number {
  if (!(threshold > 0 && threshold <= 1)) {
    throw new ValidationError('invalid_option', 'memoryThreshold', 'must be a fraction of maxmemory: 0 < x ≤ 1');
  }
  return threshold;
}

export function checkedSkew(ms: number): number {
  if (!(Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_FUTURE_SKEW_LIMIT_MS)) {
    throw new ValidationError('invalid_option', 'maxFutureSkewMs', `must be a whole number of ms from 0 to ${MAX_FUTURE_SKEW_LIMIT_MS}`);
  }
  return ms;
}

export function checkedApplyBytes(bytes: number, field = 'maxApplyBytes'): number {
  if (!(Number.isSafeInteger(bytes) && bytes >= 1 && bytes <= MAX_APPLY_BYTES_LIMIT)) {
    throw new ValidationError('invalid_option', field, `must be an integer from 1 to ${MAX_APPLY_BYTES_LIMIT}`);
  }
  return bytes;
}

export function checkedPollInterval(ms: number): number {
  if (!(ms >= 0)) throw new ValidationError('invalid_option', 'memoryPollIntervalMs', 'must be ≥ 0');
  return ms;
}
