/**
 * Hot-reload rule: everything applies live except the node's identity and the resources it
 * opened at start — `local_node_id`, `local.*`, `cursor.*`, `http.listen`, `http.enabled` —
 * and the log level (child loggers are made at start). A reload that changes one of those is refused.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ReplicationConfig } from './types.js';

export const RESTART_REQUIRED_PATHS = [
  'replication.local_node_id', 'replication.local', 'replication.cursor', 'replication.http.listen', 'replication.http.enabled',
  'replication.logging.level',
] as const;

/** Which restart-only options differ between two configurations (empty: the new one can apply live). */
export function restartRequiredChanges(previous: ReplicationConfig, next: ReplicationConfig): string[] {
  const changed: string[] = [];
  if (previous.local_node_id !== next.local_node_id) changed.push('replication.local_node_id');
  if (!isDeepStrictEqual(previous.local, next.local)) changed.push('replication.local');
  if (!isDeepStrictEqual(previous.cursor, next.cursor)) changed.push('replication.cursor');
  if (previous.http.listen !== next.http.listen) changed.push('replication.http.listen');
  if (previous.http.enabled !== next.http.enabled) changed.push('replication.http.enabled');
  if (previous.logging.level !== next.logging.level) changed.push('replication.logging.level');
  return changed;
}
