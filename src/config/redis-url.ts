/**
 * Redis URLs name a node's store. They are checked strictly (scheme, host, explicit port,
 * optional numeric database) because a typo here silently points replication at the wrong
 * server; and they are redacted before they appear anywhere an operator or a log can see.
 */

export interface RedisUrlParts {
  tls: boolean;
  host: string;
  port: number;
  db: number;
  hasPassword: boolean;
}

export type RedisUrlResult = { ok: true; parts: RedisUrlParts } | { ok: false; reason: string };

export function parseRedisUrl(value: string): RedisUrlResult {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'not a valid URL (expected redis://host:port or rediss://host:port)' };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return { ok: false, reason: 'must use the redis:// or rediss:// scheme' };
  }
  if (url.hostname === '') return { ok: false, reason: 'missing host (expected redis://host:port)' };
  // WHATWG URL drops a port equal to the scheme's default; redis: has none, so '' means absent.
  if (url.port === '') return { ok: false, reason: 'missing port (expected redis://host:port)' };
  const port = Number(url.port);
  if (port < 1 || port > 65535) return { ok: false, reason: 'port must be between 1 and 65535' };
  if (url.search !== '' || url.hash !== '') return { ok: false, reason: 'must not carry a query string or fragment' };
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText)) {
    return { ok: false, reason: 'path must be empty or a database number (redis://host:port/0)' };
  }
  return {
    ok: true,
    parts: { tls: url.protocol === 'rediss:', host: url.hostname.toLowerCase(), port, db: dbText === '' ? 0 : Number(dbText), hasPassword: url.password !== '' },
  };
}

/**
 * Identity of the keyspace a URL points at, ignoring scheme and credentials: two nodes with the
 * same identity and the same prefix would read and write the same stream.
 */
export function redisEndpointIdentity(parts: RedisUrlParts): string {
  return `${parts.host}:${parts.port}/${parts.db}`;
}

/** The URL with its password replaced by `***`; an unparseable URL is replaced whole (it may hide one). */
export function redactRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '***';
  }
  if (url.password === '') return value;
  url.password = '***';
  return url.toString();
}
