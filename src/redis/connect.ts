/**
 * One place that turns a configured endpoint (URL, credentials, TLS files) into an
 * ioredis client, for the local store and for peers alike.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { ReplicationError, ValidationError, errorMessage } from '../errors.js';
import { ErrorSafeConnector } from './error-safe-connector.js';

export interface TlsFiles {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  reject_unauthorized?: boolean;
  servername?: string;
}

export interface RedisEndpoint {
  redis_url: string;
  username?: string;
  password?: string;
  tls?: TlsFiles;
}

export function redisOptionsFor(endpoint: RedisEndpoint, extra: RedisOptions = {}): RedisOptions {
  let url: URL;
  try {
    url = new URL(endpoint.redis_url);
  } catch {
    throw new ValidationError('invalid_url', 'redis_url', 'is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ValidationError('invalid_url', 'redis_url', `scheme must be redis:// or rediss://, not ${url.protocol}//`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    db: Number.isInteger(db) ? db : 0,
    Connector: ErrorSafeConnector,
    ...extra,
  };
  const username = endpoint.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = endpoint.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  if (username) options.username = username;
  if (password) options.password = password;
  if (url.protocol === 'rediss:') {
    const t = endpoint.tls ?? {};
    options.tls = {
      ...(t.ca_file ? { ca: readFileSync(t.ca_file) } : {}),
      ...(t.cert_file ? { cert: readFileSync(t.cert_file) } : {}),
      ...(t.key_file ? { key: readFileSync(t.key_file) } : {}),
      rejectUnauthorized: t.reject_unauthorized ?? true,
      ...(t.servername ? { servername: t.servername } : {}),
    };
  }
  return options;
}

export function createRedisClient(endpoint: RedisEndpoint, extra: RedisOptions = {}): Redis {
  return new Redis(redisOptionsFor(endpoint, extra));
}

/** host:port of a client, for error messages (never its credentials). */
export function addressOf(redis: Redis): string {
  return `${redis.options.host ?? '?'}:${redis.options.port ?? '?'}`;
}

/**
 * Connects a `lazyConnect` client once, failing fast with the real cause. Without this the first
 * command waits through ioredis's request retries (~11 s) and then only says "Reached the max
 * retries per request limit": the refusal, wrong password or TLS error is in an 'error' event.
 * On failure the client is disconnected (no reconnecting in the background).
 */
export async function connectOnce(redis: Redis, what: string, timeoutMs: number): Promise<void> {
  let cause: string | null = null;
  const onError = (err: Error): void => {
    cause ??= err.message;
  };
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    const why = cause ?? errorMessage(err);
    throw new ReplicationError('redis_unavailable', `cannot connect to ${what} at ${addressOf(redis)}: ${why}`, { cause: err });
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}

/** The URL without its password, for logs and status output. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<invalid url>';
  }
}
