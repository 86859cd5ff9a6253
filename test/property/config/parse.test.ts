import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError } from '../../../src/config/config-error.js';
import { escapeEnvReferences, substituteString } from '../../../src/config/env.js';
import { parseConfigText } from '../../../src/config/load.js';
import { parseConfig } from '../../../src/config/parse.js';
import { formatDuration } from '../../../src/config/duration.js';

/** Node ids per isNodeId. */
const nodeIdArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}$/);

const durationArb = (minMs: number, maxMs: number) =>
  fc.integer({ min: minMs, max: maxMs }).chain((ms) => fc.constantFrom<string | number>(ms, formatDuration(ms)));

const secretArb = fc.string({ maxLength: 40 });
const prefixArb = fc.stringMatching(/^[A-Za-z0-9:_{}$-]{0,12}$/);
const pathArb = fc.string({ minLength: 1, maxLength: 30 });

const tlsArb = fc.record(
  {
    ca_file: pathArb,
    reject_unauthorized: fc.boolean(),
    servername: fc.domain(),
  },
  { requiredKeys: [] },
);

/** A connection on port `port` (unique per node, so no two nodes share a stream). */
const connectionArb = (port: number) =>
  fc
    .record(
      {
        tls: fc.boolean(),
        redis_prefix: prefixArb,
        username: fc.string({ minLength: 1, maxLength: 12 }),
        password: secretArb,
        tlsOptions: tlsArb,
      },
      { requiredKeys: ['tls'] },
    )
    .map(({ tls, tlsOptions, ...rest }) => ({
      redis_url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
      ...rest,
      ...(tls && tlsOptions !== undefined ? { tls: tlsOptions } : {}),
    }));

const hotPathArb = fc
  .record({
    enabled: fc.boolean(),
    sizes: fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { minLength: 3, maxLength: 3 }),
    block_timeout: durationArb(10, 60_000),
    adaptive_batch_size: fc.boolean(),
    rate_limit_enabled: fc.boolean(),
    rate_limit_per_sec: fc.double({ min: 0.001, max: 1e6, noNaN: true }),
    rate_limit_burst: fc.integer({ min: 1, max: 1e6 }),
  })
  .map(({ sizes, ...rest }) => {
    const [min, batch, max] = [...sizes].sort((a, b) => a - b);
    return { ...rest, min_batch_size: min, batch_size: batch, max_batch_size: max };
  });

const positiveArb = fc.double({ min: 0.001, max: 1e6, noNaN: true });

const coldPathArb = fc
  .record({ enabled: fc.boolean(), interval_sec: positiveArb, max_items_per_cycle: fc.integer({ min: 1, max: 1e6 }), a: positiveArb, b: positiveArb })
  .map(({ a, b, ...rest }) => ({ ...rest, backoff_base_sec: Math.min(a, b), backoff_max_sec: Math.max(a, b) }));

/** A valid inner config (what is under `replication:`), with optional fields randomly left out. */
const validConfigArb = fc
  .record({
    local_node_id: nodeIdArb,
    peerIds: fc.uniqueArray(nodeIdArb, { maxLength: 4 }),
    local: connectionArb(6380),
    peerConnections: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }).chain((ports) =>
      fc.tuple(...ports.map((_, i) => connectionArb(7000 + i))),
    ),
    peerExtras: fc.array(
      fc.record(
        { priority: fc.integer({ min: -100, max: 100 }), circuit_failure_threshold: fc.integer({ min: 1, max: 100 }), circuit_reset_timeout_sec: positiveArb },
        { requiredKeys: [] },
      ),
      { minLength: 4, maxLength: 4 },
    ),
    http: fc.record(
      { listen: fc.constantFrom('127.0.0.1:8790', '0.0.0.0:0', '[::1]:9000', 'localhost:1'), api_token: fc.string({ minLength: 16, maxLength: 40 }), enabled: fc.boolean() },
      { requiredKeys: [] },
    ),
    store: fc.record(
      {
        max_payload_bytes: fc.integer({ min: 1, max: 512 * 1024 * 1024 }),
        cdc_maxlen: fc.integer({ min: 1, max: 1e7 }),
        emit_replicated: fc.boolean(),
        tombstone_ttl: durationArb(1000, 30 * 86_400_000),
        tombstone_gc_interval: durationArb(1000, 86_400_000),
        max_clock_skew: durationArb(1, 3_600_000),
        memory_threshold: fc.double({ min: 0.01, max: 1, noNaN: true }),
        memory_poll_interval: durationArb(100, 60_000),
      },
      { requiredKeys: [] },
    ),
    logging: fc.record({ level: fc.constantFrom('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') }, { requiredKeys: [] }),
    settings: fc.record(
      {
        hot_path: hotPathArb,
        cold_path: coldPathArb,
        peer_health: fc.record({ enabled: fc.boolean(), ping_interval_sec: positiveArb, idle_threshold_sec: positiveArb }, { requiredKeys: [] }),
        slo: fc.record(
          { max_stream_read_latency_ms: positiveArb, max_peer_op_latency_ms: positiveArb, max_batch_flush_latency_ms: positiveArb, max_replication_lag_sec: positiveArb },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
    cursor: fc.record({ sqlite_path: pathArb, wal_mode: fc.boolean() }, { requiredKeys: [] }),
  }, { requiredKeys: ['local_node_id', 'peerIds', 'local', 'peerConnections', 'peerExtras'] })
  .map(({ peerIds, peerConnections, peerExtras, ...rest }) => ({
    ...rest,
    peers: peerIds
      .filter((id) => id !== rest.local_node_id)
      .map((node_id, i) => ({ node_id, ...peerConnections[i]!, ...peerExtras[i]! })),
  }));

type Tree = Record<string, unknown> | unknown[];

/** Every path to a value inside a plain tree, the root excluded. */
function pathsIn(node: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(node)) return node.flatMap((child, i) => [[...at, i], ...pathsIn(child, [...at, i])]);
  if (node !== null && typeof node === 'object') {
    return Object.entries(node).flatMap(([key, child]) => [[...at, key], ...pathsIn(child, [...at, key])]);
  }
  return [];
}

function setIn(tree: Tree, path: (string | number)[], value: unknown): void {
  let node: any = tree;
  for (const segment of path.slice(0, -1)) node = node[segment];
  Object.defineProperty(node, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
}

/** Parses; a refusal must be a ConfigError with at least one issue, every path under `replication`. */
function parsesOrRefusesCleanly(input: unknown): void {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) expect(issue.path.startsWith('replication')).toBe(true);
  }
}

/** Mirrors env escaping on every string of a tree, so a literal `${` survives substitution on load. */
function escapeTree(node: unknown): unknown {
  if (typeof node === 'string') return escapeEnvReferences(node);
  if (Array.isArray(node)) return node.map(escapeTree);
  if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, escapeTree(v)]));
  return node;
}

describe('config (property)', () => {
  it('every generated valid config parses', () => {
    fc.assert(fc.property(validConfigArb, (config) => {
      parseConfig(config);
    }), { numRuns: 300 });
  });

  it('parseConfig throws nothing but ConfigError on arbitrary values', () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true }), parsesOrRefusesCleanly), { numRuns: 500 });
  });

  it('parseConfig throws nothing but ConfigError when any value of a valid config is replaced', () => {
    fc.assert(
      fc.property(
        validConfigArb.chain((config) => {
          const paths = pathsIn(config);
          return fc.tuple(fc.constant(config), fc.constantFrom(...paths), fc.oneof(fc.jsonValue(), fc.anything()));
        }),
        ([config, path, value]) => {
          const mutated = structuredClone(config);
          setIn(mutated, path, value);
          parsesOrRefusesCleanly(mutated);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('an extra key anywhere in a valid config is refused at its path', () => {
    fc.assert(
      fc.property(
        validConfigArb.chain((config) => {
          const objectPaths = [[], ...pathsIn(config)].filter((path) => {
            let node: any = config;
            for (const segment of path) node = node[segment];
            return node !== null && typeof node === 'object' && !Array.isArray(node);
          });
          return fc.tuple(fc.constant(config), fc.constantFrom(...objectPaths), fc.constantFrom('extra', 'Batch_Size', '__proto__', 'x y'));
        }),
        ([config, path, key]) => {
          const mutated = structuredClone(config);
          setIn(mutated, [...path, key], 1);
          let error: unknown;
          try {
            parseConfig(mutated);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(ConfigError);
          const paths = (error as ConfigError).issues.map((issue) => issue.path);
          expect(paths.some((p) => p.endsWith(key === 'x y' ? '["x y"]' : key))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a valid config round-trips through YAML text and load', () => {
    fc.assert(
      fc.property(validConfigArb, fc.constantFrom<'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE'>('PLAIN', 'QUOTE_DOUBLE', 'QUOTE_SINGLE'), (config, style) => {
        const text = stringify({ replication: escapeTree(config) }, { defaultStringType: style, defaultKeyType: 'PLAIN' });
        expect(parseConfigText(text, { env: {} })).toEqual(parseConfig(config));
      }),
      { numRuns: 200 },
    );
  });

  it('escaped literals survive substitution whatever the environment', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('$', '{', '}', ':', '-', 'A', '_', 'x') }), fc.dictionary(fc.constantFrom('A', '_', 'x', 'A_'), fc.string()), (literal, env) => {
        expect(substituteString(escapeEnvReferences(literal), env)).toEqual({ ok: true, value: literal });
      }),
    );
  });
});
