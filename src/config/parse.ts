import { ConfigError, INLINE_SOURCE } from './config-error.js';
import { fromZodIssue, type LocatedIssue } from './issues.js';
import { replicationConfigSchema } from './schema.js';
import type { ReplicationConfig } from './types.js';

/** The only key allowed at a config file's top level. */
export const ROOT_KEY = 'replication';

export type ConfigValidation = { ok: true; config: ReplicationConfig } | { ok: false; issues: LocatedIssue[] };

/** Validates the object under `replication:` without throwing; issue paths start at `replication`. */
export function validateConfig(input: unknown): ConfigValidation {
  let result;
  try {
    result = replicationConfigSchema.safeParse(input, { reportInput: true });
  } catch {
    // Values no YAML or JSON document can produce (throwing getters, proxies) are still a config error.
    return { ok: false, issues: [{ segments: [ROOT_KEY], issue: { path: ROOT_KEY, message: 'could not be read as a configuration object' } }] };
  }
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, issues: result.error.issues.flatMap((issue) => fromZodIssue(issue, replicationConfigSchema, [ROOT_KEY])) };
}

/**
 * Validates and completes the object under `replication:` (defaults filled, durations in ms).
 * Throws ConfigError listing every issue.
 */
export function parseConfig(input: unknown, source: string = INLINE_SOURCE): ReplicationConfig {
  const result = validateConfig(input);
  if (!result.ok) throw new ConfigError(result.issues.map((located) => located.issue), source);
  return result.config;
}
