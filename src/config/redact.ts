/**
 * A copy of the configuration that is safe to log or print: passwords, the API token and
 * URL passwords become `***`. Everything else is kept, so the printout is still useful.
 */
import { redactRedisUrl } from './redis-url.js';
import type { RedisConnectionConfig, ReplicationConfig } from './types.js';

export const REDACTED = '***';

export { redactRedisUrl };

function redactConnection<T extends RedisConnectionConfig>(connection: T): T {
  const copy: T = { ...connection, redis_url: redactRedisUrl(connection.redis_url) };
  if (copy.password !== undefined) copy.password = REDACTED;
  if (connection.tls !== undefined) copy.tls = { ...connection.tls };
  return copy;
}

export function redactConfig(config: ReplicationConfig): ReplicationConfig {
  const copy = structuredClone(config);
  copy.local = redactConnection(copy.local);
  copy.peers = copy.peers.map(redactConnection);
  if (copy.http.api_token !== undefined) copy.http.api_token = REDACTED;
  return copy;
}
