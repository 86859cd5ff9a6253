/**
 * The zod schema of what is under `replication:`. Objects are strict (an unknown key is a
 * typo until proven otherwise), sections default to their defaults, durations become ms.
 * Messages never quote the offending value: it may be a secret.
 */
import { z } from 'zod';
import { isNodeId } from '../model/node-id.js';
import { DEFAULTS } from '../defaults.js';
import { DURATION_HINT, formatDuration, parseDuration, tryParseDuration } from './duration.js';
import { parseListenAddress } from './listen-address.js';
import { parseRedisUrl } from './redis-url.js';
import { coldPathIssues, connectionIssues, hotPathIssues, meshIssues, type RuleIssue } from './rules.js';
import type { ReplicationConfig } from './types.js';

export type {
  ColdPathSettings, CursorConfig, HotPathSettings, HttpConfig, LocalStoreConfig, LoggingConfig, LogLevel, PeerConfig,
  PeerHealthSettings, RedisConnectionConfig, ReplicationConfig, Settings, SloSettings, StoreConfig, TlsConfig,
} from './types.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const MAX_PAYLOAD_LIMIT = 512 * 1024 * 1024;

// Defaults of a missing `local` section (docs/configuration.md): the seed's layout has none, since its
// engine is handed its store by a parent process. Redis's own default address, and a prefix named after
// the node so that two nodes sharing one Redis by default still own separate keys and streams.
export const DEFAULT_LOCAL_REDIS_URL = 'redis://127.0.0.1:6379';
const MAX_PREFIX_LENGTH = 64;
const DEFAULT_LOCAL_TOO_LONG =
  `required when local_node_id is longer than ${MAX_PREFIX_LENGTH - 1} characters (the default redis_prefix "<local_node_id>:" would exceed ${MAX_PREFIX_LENGTH})`;

/** The `local` section a file without one gets; undefined when the derived prefix would be too long. */
export function defaultLocal(localNodeId: string): { redis_url: string; redis_prefix: string } | undefined {
  const prefix = `${localNodeId}:`;
  return prefix.length > MAX_PREFIX_LENGTH ? undefined : { redis_url: DEFAULT_LOCAL_REDIS_URL, redis_prefix: prefix };
}

function reportRules(ctx: z.RefinementCtx, issues: RuleIssue[]): void {
  for (const issue of issues) ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
const positive = () => z.number().positive();

/** A duration field: "5s" or whole ms in the file, ms in the parsed config. */
function duration(defaultValue: string | number, min: string, max?: string) {
  return durationValue(min, max).default(typeof defaultValue === 'number' ? defaultValue : parseDuration(defaultValue));
}

/** As duration(), without a default. */
function durationValue(min: string, max?: string) {
  const minMs = parseDuration(min);
  const maxMs = max === undefined ? Number.MAX_SAFE_INTEGER : parseDuration(max);
  return z
    .union([z.string(), z.number()], { error: `must be ${DURATION_HINT}` })
    .transform((value, ctx) => {
      const parsed = tryParseDuration(value);
      if (!parsed.ok) {
        ctx.issues.push({ code: 'custom', message: parsed.reason, input: value });
        return z.NEVER;
      }
      if (parsed.ms < minMs || parsed.ms > maxMs) {
        const range = max === undefined ? `at least ${formatDuration(minMs)}` : `between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`;
        ctx.issues.push({ code: 'custom', message: `must be ${range}`, input: value });
        return z.NEVER;
      }
      return parsed.ms;
    });
}

const nodeId = z.string().refine(isNodeId, {
  message: 'not a valid node id (1-128 ASCII letters, digits and . _ : @ -, starting with a letter or digit)',
});

const redisUrl = z.string().superRefine((value, ctx) => {
  const url = parseRedisUrl(value);
  if (!url.ok) ctx.addIssue({ code: 'custom', message: url.reason });
});

const redisPrefix = z
  .string()
  .max(MAX_PREFIX_LENGTH)
  .regex(/^\S*$/, { message: 'must not contain whitespace' })
  .default('');

const tlsSchema = z.strictObject({
  ca_file: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  reject_unauthorized: z.boolean().default(true),
  servername: z.string().min(1).optional(),
});

const connectionShape = {
  redis_url: redisUrl,
  redis_prefix: redisPrefix,
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  tls: tlsSchema.optional(),
};

const localSchema = z.strictObject(connectionShape).superRefine((local, ctx) => reportRules(ctx, connectionIssues(local)));

const peerSchema = z
  .strictObject({
    node_id: nodeId,
    ...connectionShape,
    priority: int(Number.MIN_SAFE_INTEGER).default(0),
    circuit_failure_threshold: int(1).default(5),
    circuit_reset_timeout_sec: positive().default(30),
  })
  .superRefine((peer, ctx) => reportRules(ctx, connectionIssues(peer)));

const httpSchema = z.strictObject({
  listen: z
    .string()
    .refine((value) => parseListenAddress(value) !== undefined, { message: 'must be host:port (e.g. "127.0.0.1:8790" or "[::1]:8790")' })
    .default('127.0.0.1:8790'),
  api_token: z.string().min(16).optional(),
  enabled: z.boolean().default(true),
  // Limits against slow, stalled or abusive clients (docs/configuration.md explains each default).
  max_connections: int(1, 1_000_000).default(DEFAULTS.http.maxConnections),
  max_inflight_body_bytes: int(1, 4 * 1024 * 1024 * 1024).default(DEFAULTS.http.maxInflightBodyBytes),
  max_json_depth: int(1, 100_000).default(DEFAULTS.http.maxJsonDepth),
  headers_timeout: duration(DEFAULTS.http.headersTimeoutMs, '100ms', '10m'),
  request_timeout: duration(DEFAULTS.http.requestTimeoutMs, '100ms', '1h'),
  keep_alive_timeout: duration(DEFAULTS.http.keepAliveTimeoutMs, '100ms', '10m'),
  store_timeout: duration(DEFAULTS.http.storeTimeoutMs, '10ms', '60s'),
}).superRefine((http, ctx) => {
  // Node refuses a header deadline past the whole-request deadline.
  if (http.headers_timeout > http.request_timeout) {
    ctx.addIssue({ code: 'custom', path: ['headers_timeout'], message: 'must not exceed http.request_timeout' });
  }
});

const storeSchema = z.strictObject({
  max_payload_bytes: int(1, MAX_PAYLOAD_LIMIT).default(DEFAULTS.maxPayloadBytes),
  cdc_maxlen: int(1).default(DEFAULTS.cdcMaxlen),
  emit_replicated: z.boolean().default(true),
  tombstone_ttl: duration(DEFAULTS.tombstoneTtlMs, '1s'),
  tombstone_gc_interval: duration('60s', '1s'),
  max_clock_skew: duration('10s', '1ms'),
  // Far-future stamps (docs/configuration.md): unset, it is the larger of 60 s and max_clock_skew,
  // so a file written before it existed accepts every stamp it used to apply without a warning.
  max_future_skew: durationValue('1s', '366d').optional(),
  memory_threshold: z.number().gt(0).max(1).default(DEFAULTS.memoryThreshold),
  memory_poll_interval: duration('1s', '100ms'),
  // Bounded in bytes (docs/configuration.md): one apply call is one Redis argument, refused above
  // Redis's 512 MB proto-max-bulk-len.
  max_apply_bytes: int(1, MAX_PAYLOAD_LIMIT).default(DEFAULTS.maxApplyBytes),
}).transform((store, ctx) => {
  const { max_future_skew: explicit, ...rest } = store;
  if (explicit !== undefined && rest.max_clock_skew > explicit) {
    ctx.issues.push({ code: 'custom', path: ['max_clock_skew'], input: rest.max_clock_skew,
      message: `must be at most max_future_skew (${formatDuration(explicit)}): a stamp further ahead is refused, never applied with a warning` });
  }
  return { ...rest, max_future_skew: explicit ?? Math.max(DEFAULTS.maxFutureSkewMs, rest.max_clock_skew) };
});

const loggingSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
});

const hotPathSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    // 1000, not 100: measured in bench/ (BENCHMARKS.md), a tailer reading 100 at a time could not
    // keep up with three nodes writing 2,000/s each, and bigger batches amortise each apply call.
    batch_size: int(1, 100_000).default(1000),
    // 0 would block forever in Redis; past a minute a stuck connection goes unnoticed too long.
    block_timeout: duration('5s', '10ms', '60s'),
    adaptive_batch_size: z.boolean().default(false),
    min_batch_size: int(1, 100_000).default(50),
    max_batch_size: int(1, 100_000).default(1000),
    rate_limit_enabled: z.boolean().default(false),
    rate_limit_per_sec: positive().default(10_000),
    rate_limit_burst: int(1).default(1000),
    // Bounded in bytes (docs/hot-path.md): XREAD's COUNT learned from entry sizes, decoded bytes per batch.
    max_read_bytes: int(1024).default(DEFAULTS.maxReadBytes),
    max_batch_bytes: int(1024).default(DEFAULTS.maxBatchBytes),
  })
  .superRefine((hot, ctx) => reportRules(ctx, hotPathIssues(hot)));

const coldPathSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    interval_sec: positive().default(60),
    max_items_per_cycle: int(1).default(1000),
    backoff_base_sec: positive().default(5),
    backoff_max_sec: positive().default(300),
    // Bounded in bytes (docs/cold-path.md): record bytes fetched and applied per round.
    max_fetch_bytes: int(1024).default(DEFAULTS.maxFetchBytes),
  })
  .superRefine((cold, ctx) => reportRules(ctx, coldPathIssues(cold)));

const peerHealthSchema = z.strictObject({
  enabled: z.boolean().default(true),
  ping_interval_sec: positive().default(30),
  idle_threshold_sec: positive().default(60),
});

const sloSchema = z.strictObject({
  max_stream_read_latency_ms: positive().default(100),
  max_peer_op_latency_ms: positive().default(500),
  max_batch_flush_latency_ms: positive().default(200),
  max_replication_lag_sec: positive().default(30),
});

const settingsSchema = z.strictObject({
  hot_path: hotPathSchema.prefault({}),
  cold_path: coldPathSchema.prefault({}),
  peer_health: peerHealthSchema.prefault({}),
  slo: sloSchema.prefault({}),
});

const cursorSchema = z.strictObject({
  sqlite_path: z.string().min(1).default('replication_cursors.db'),
  wal_mode: z.boolean().default(true),
});

/** Validates what is under `replication:`. Mesh rules run once every field is individually valid. */
export const replicationConfigSchema = z
  .strictObject({
    local_node_id: nodeId,
    local: localSchema.optional(),
    http: httpSchema.prefault({}),
    store: storeSchema.prefault({}),
    logging: loggingSchema.prefault({}),
    settings: settingsSchema.prefault({}),
    peers: z.array(peerSchema).default([]),
    cursor: cursorSchema.prefault({}),
  })
  .transform((config, ctx) => {
    const local = config.local ?? defaultLocal(config.local_node_id);
    if (local === undefined) {
      ctx.issues.push({ code: 'custom', path: ['local'], message: DEFAULT_LOCAL_TOO_LONG, input: undefined });
      return z.NEVER;
    }
    return { ...config, local };
  })
  .superRefine((config, ctx) => reportRules(ctx, meshIssues(config)));

/** What a config file may contain under `replication:` (durations as strings or ms). */
export type ReplicationConfigInput = z.input<typeof replicationConfigSchema>;

// The schema's output must be exactly the documented interfaces (types.ts), both ways.
type MutuallyAssignable<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _schemaMatchesTypes: MutuallyAssignable<z.output<typeof replicationConfigSchema>, ReplicationConfig> = true;
void _schemaMatchesTypes;
