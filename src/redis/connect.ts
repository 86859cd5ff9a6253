/**
 * One place that turns a configured endpoint (URL, credentials, TLS files) into an
 * ioredis client, for the local store and for peers alike.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { ValidationError } from '../errors.js';
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
