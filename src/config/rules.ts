/**
 * Rules that involve more than one field. Each returns the issues it finds, located at the
 * field the operator should change, so every broken rule is reported at once.
 */
import type { ConfigPath } from './path.js';
import { parseRedisUrl, redisEndpointIdentity } from './redis-url.js';
import type { ColdPathSettings, HotPathSettings, RedisConnectionConfig, ReplicationConfig } from './types.js';

export interface RuleIssue {
  path: ConfigPath;
  message: string;
}

/** min ≤ batch ≤ max matters only while the size adapts; a fixed batch_size ignores min and max. */
export function hotPathIssues(hot: HotPathSettings): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (hot.adaptive_batch_size) {
    if (hot.min_batch_size > hot.max_batch_size) {
      issues.push({ path: ['min_batch_size'], message: `must be at most max_batch_size (${hot.max_batch_size})` });
    }
    if (hot.batch_size < hot.min_batch_size) {
      issues.push({ path: ['batch_size'], message: `must be at least min_batch_size (${hot.min_batch_size}) when adaptive_batch_size is on` });
    } else if (hot.batch_size > hot.max_batch_size) {
      issues.push({ path: ['batch_size'], message: `must be at most max_batch_size (${hot.max_batch_size}) when adaptive_batch_size is on` });
    }
  }
  return issues;
}

export function coldPathIssues(cold: ColdPathSettings): RuleIssue[] {
  if (cold.backoff_base_sec > cold.backoff_max_sec) {
    return [{ path: ['backoff_base_sec'], message: `must be at most backoff_max_sec (${cold.backoff_max_sec})` }];
  }
  return [];
}

/** A connection's TLS options and scheme must agree: options with `redis://` would silently mean plaintext. */
export function connectionIssues(connection: RedisConnectionConfig): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const url = parseRedisUrl(connection.redis_url);
  if (connection.tls !== undefined && url.ok && !url.parts.tls) {
    issues.push({ path: ['tls'], message: 'TLS options need a rediss:// redis_url (this one is plaintext redis://)' });
  }
  if (connection.tls !== undefined && (connection.tls.cert_file === undefined) !== (connection.tls.key_file === undefined)) {
    const missing = connection.tls.cert_file === undefined ? 'cert_file' : 'key_file';
    issues.push({ path: ['tls', missing], message: 'cert_file and key_file go together (client certificate)' });
  }
  return issues;
}

/** The mesh must be well formed: no node twice, no node that is itself, no two nodes on one stream. */
export function meshIssues(config: ReplicationConfig): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const firstByNodeId = new Map<string, number>();
  const streamOwner = new Map<string, string>();
  const stream = (c: RedisConnectionConfig): string | undefined => {
    const url = parseRedisUrl(c.redis_url);
    return url.ok ? `${redisEndpointIdentity(url.parts)}\u0000${c.redis_prefix}` : undefined;
  };
  const localStream = stream(config.local);
  if (localStream !== undefined) streamOwner.set(localStream, 'local');

  config.peers.forEach((peer, index) => {
    if (peer.node_id === config.local_node_id) {
      issues.push({ path: ['peers', index, 'node_id'], message: 'equals local_node_id: a node cannot be its own peer' });
    } else {
      const first = firstByNodeId.get(peer.node_id);
      if (first === undefined) firstByNodeId.set(peer.node_id, index);
      else issues.push({ path: ['peers', index, 'node_id'], message: `duplicate node_id (also peers[${first}].node_id)` });
    }
    const key = stream(peer);
    if (key === undefined) return;
    const owner = streamOwner.get(key);
    if (owner === undefined) streamOwner.set(key, `peers[${index}]`);
    else {
      issues.push({
        path: ['peers', index, 'redis_url'],
        message: `same redis_url and redis_prefix as ${owner}: both would be the same stream`,
      });
    }
  });
  return issues;
}
