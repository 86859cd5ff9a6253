import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { parseConfig } from '../../../src/config/parse.js';
import { parseConfigText } from '../../../src/config/load.js';
import type { ConfigIssue } from '../../../src/config/config-error.js';

const SEED = `
replication:
  local_node_id: "uk.node.london-1"
  local: { redis_url: "redis://127.0.0.1:6380", redis_prefix: "london:" }
  http: { listen: "127.0.0.1:8790" }
  settings:
    hot_path: { enabled: true, batch_size: 100, block_timeout: "5s", adaptive_batch_size: true, min_batch_size: 50, max_batch_size: 1000, rate_limit_enabled: true, rate_limit_per_sec: 10000, rate_limit_burst: 1000 }
    cold_path: { enabled: true, interval_sec: 60, max_items_per_cycle: 1000 }
    peer_health: { enabled: true, ping_interval_sec: 30 }
    slo: { max_replication_lag_sec: 60 }
  peers:
    - { node_id: "uk.node.manchester-1", redis_url: "redis://127.0.0.1:6381", redis_prefix: "manchester:", priority: 0, circuit_failure_threshold: 5, circuit_reset_timeout_sec: 30 }
  cursor: { sqlite_path: "/var/lib/replication/cursors.db", wal_mode: true }
`;

/** The smallest valid inner config, as a fresh object each time so tests can mutate it. */
function minimal(): Record<string, any> {
  return { local_node_id: 'n1', local: { redis_url: 'redis://127.0.0.1:6380' } };
}

function issuesOf(input: unknown): ConfigIssue[] {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the config to be refused');
}

function pathsOf(input: unknown): string[] {
  return issuesOf(input).map((issue) => issue.path);
}

describe('parseConfig: valid configurations', () => {
  it('loads the seed config with its values and the defaults', () => {
    const config = parseConfigText(SEED, { env: {} });
    expect(config.local_node_id).toBe('uk.node.london-1');
    expect(config.local).toEqual({ redis_url: 'redis://127.0.0.1:6380', redis_prefix: 'london:' });
    expect(config.http).toEqual({
      listen: '127.0.0.1:8790', enabled: true, max_connections: 1024, max_inflight_body_bytes: 64 * 1024 * 1024, max_json_depth: 128,
      headers_timeout: 10_000, request_timeout: 30_000, keep_alive_timeout: 5000, store_timeout: 2000,
    });
    expect(config.settings.hot_path).toEqual({
      enabled: true, batch_size: 100, block_timeout: 5000, adaptive_batch_size: true, min_batch_size: 50,
      max_batch_size: 1000, rate_limit_enabled: true, rate_limit_per_sec: 10000, rate_limit_burst: 1000,
      max_read_bytes: 32 * 1024 * 1024, max_batch_bytes: 32 * 1024 * 1024,
    });
    expect(config.settings.cold_path).toEqual({ enabled: true, interval_sec: 60, max_items_per_cycle: 1000, backoff_base_sec: 5, backoff_max_sec: 300, max_fetch_bytes: 32 * 1024 * 1024 });
    expect(config.settings.peer_health).toEqual({ enabled: true, ping_interval_sec: 30, idle_threshold_sec: 60 });
    expect(config.settings.slo).toEqual({
      max_stream_read_latency_ms: 100, max_peer_op_latency_ms: 500, max_batch_flush_latency_ms: 200, max_replication_lag_sec: 60,
    });
    expect(config.peers).toEqual([
      { node_id: 'uk.node.manchester-1', redis_url: 'redis://127.0.0.1:6381', redis_prefix: 'manchester:', priority: 0, circuit_failure_threshold: 5, circuit_reset_timeout_sec: 30 },
    ]);
    expect(config.cursor).toEqual({ sqlite_path: '/var/lib/replication/cursors.db', wal_mode: true });
    expect(config.store).toEqual({
      max_payload_bytes: 16 * 1024 * 1024, cdc_maxlen: 100_000, emit_replicated: true, tombstone_ttl: 7 * 86_400_000,
      tombstone_gc_interval: 60_000, max_clock_skew: 10_000, max_future_skew: 60_000, memory_threshold: 0.9, memory_poll_interval: 1000,
      max_apply_bytes: 32 * 1024 * 1024,
    });
    expect(config.logging).toEqual({ level: 'info' });
  });

  it('fills every default from the two required fields', () => {
    const config = parseConfig(minimal());
    expect(config.local.redis_prefix).toBe('');
    expect(config.peers).toEqual([]);
    expect(config.cursor).toEqual({ sqlite_path: 'replication_cursors.db', wal_mode: true });
    expect(config.settings.hot_path).toEqual({
      enabled: true, batch_size: 1000, block_timeout: 5000, adaptive_batch_size: false, min_batch_size: 50,
      max_batch_size: 1000, rate_limit_enabled: false, rate_limit_per_sec: 10000, rate_limit_burst: 1000,
      max_read_bytes: 32 * 1024 * 1024, max_batch_bytes: 32 * 1024 * 1024,
    });
    expect(config.settings.slo.max_replication_lag_sec).toBe(30);
  });

  it('fills peer defaults', () => {
    const config = parseConfig({ ...minimal(), peers: [{ node_id: 'n2', redis_url: 'redis://127.0.0.1:6381' }] });
    expect(config.peers[0]).toEqual({ node_id: 'n2', redis_url: 'redis://127.0.0.1:6381', redis_prefix: '', priority: 0, circuit_failure_threshold: 5, circuit_reset_timeout_sec: 30 });
  });

  it('max_future_skew: the larger of 60 s and max_clock_skew when unset (old files keep applying what they applied); never below max_clock_skew when set', () => {
    expect(parseConfig(minimal()).store).toMatchObject({ max_clock_skew: 10_000, max_future_skew: 60_000 });
    expect(parseConfig({ ...minimal(), store: { max_clock_skew: '5m' } }).store).toMatchObject({ max_clock_skew: 300_000, max_future_skew: 300_000 });
    expect(parseConfig({ ...minimal(), store: { max_future_skew: '2m' } }).store.max_future_skew).toBe(120_000);
    expect(() => parseConfig({ ...minimal(), store: { max_future_skew: '30s', max_clock_skew: '1m' } })).toThrow(/store\.max_clock_skew: must be at most max_future_skew/);
    expect(() => parseConfig({ ...minimal(), store: { max_future_skew: '500ms' } })).toThrow(/store\.max_future_skew: must be between/);
    expect(() => parseConfig({ ...minimal(), store: { max_future_skew: '400d' } })).toThrow(/store\.max_future_skew: must be between/);
  });

  it('accepts durations as strings or whole milliseconds', () => {
    const config = parseConfig({ ...minimal(), store: { tombstone_ttl: '36h', max_clock_skew: 250 }, settings: { hot_path: { block_timeout: '250ms' } } });
    expect(config.store.tombstone_ttl).toBe(36 * 3_600_000);
    expect(config.store.max_clock_skew).toBe(250);
    expect(config.settings.hot_path.block_timeout).toBe(250);
  });

  it('accepts credentials, a database number, TLS with rediss://, IPv6 listen and an API token', () => {
    const config = parseConfig({
      ...minimal(),
      local: { redis_url: 'rediss://user:pw@redis.example:6380/2', password: 'x', tls: { ca_file: '/ca.pem', cert_file: '/c.pem', key_file: '/k.pem' } },
      http: { listen: '[::1]:0', api_token: 'a'.repeat(16) },
    });
    expect(config.local.tls).toEqual({ ca_file: '/ca.pem', cert_file: '/c.pem', key_file: '/k.pem', reject_unauthorized: true });
    expect(config.http.listen).toBe('[::1]:0');
  });

  it('allows a fixed batch_size outside min..max while adaptive sizing is off', () => {
    expect(parseConfig({ ...minimal(), settings: { hot_path: { batch_size: 10 } } }).settings.hot_path.batch_size).toBe(10);
  });

  it('allows two nodes on one Redis with different prefixes or databases', () => {
    const config = parseConfig({
      ...minimal(),
      peers: [
        { node_id: 'n2', redis_url: 'redis://127.0.0.1:6380', redis_prefix: 'b:' },
        { node_id: 'n3', redis_url: 'redis://127.0.0.1:6380/1' },
      ],
    });
    expect(config.peers).toHaveLength(2);
  });
});

describe('parseConfig: a missing local section takes the documented defaults', () => {
  it('uses redis://127.0.0.1:6379 and a prefix named after the node', () => {
    const config = parseConfig({ local_node_id: 'uk.node.london-1' });
    expect(config.local).toEqual({ redis_url: 'redis://127.0.0.1:6379', redis_prefix: 'uk.node.london-1:' });
  });

  it('accepts the seed layout (no local section) as a file', () => {
    const text = readFileSync(new URL('../../fixtures/seed-example.yaml', import.meta.url), 'utf8');
    const config = parseConfigText(text);
    expect(config.local.redis_prefix).toBe('uk.node.london-1:');
    expect(config.peers.map((p) => p.node_id)).toEqual(['uk.node.manchester-1', 'uk.node.edinburgh-1']);
  });

  it('still refuses a peer on the default local stream', () => {
    expect(pathsOf({ local_node_id: 'a', peers: [{ node_id: 'b', redis_url: 'redis://127.0.0.1:6379', redis_prefix: 'a:' }] })).toEqual([
      'replication.peers[0].redis_url',
    ]);
  });

  it('keeps an explicit local section as written', () => {
    expect(parseConfig(minimal()).local).toEqual({ redis_url: 'redis://127.0.0.1:6380', redis_prefix: '' });
  });
});

describe('parseConfig: refused configurations name the offending path', () => {
  const cases: [string, (c: Record<string, any>) => void, string][] = [
    ['missing local_node_id', (c) => delete c.local_node_id, 'replication.local_node_id'],
    ['bad local_node_id', (c) => (c.local_node_id = 'has space'), 'replication.local_node_id'],
    ['missing local with a node id too long for the default prefix', (c) => { delete c.local; c.local_node_id = 'n'.repeat(64); }, 'replication.local'],
    ['null local', (c) => (c.local = null), 'replication.local'],
    ['missing local.redis_url', (c) => (c.local = {}), 'replication.local.redis_url'],
    ['unparseable URL', (c) => (c.local.redis_url = 'not a url'), 'replication.local.redis_url'],
    ['wrong scheme', (c) => (c.local.redis_url = 'http://127.0.0.1:6380'), 'replication.local.redis_url'],
    ['missing port', (c) => (c.local.redis_url = 'redis://127.0.0.1'), 'replication.local.redis_url'],
    ['missing host', (c) => (c.local.redis_url = 'redis://:6380'), 'replication.local.redis_url'],
    ['URL with a query', (c) => (c.local.redis_url = 'redis://h:1?db=2'), 'replication.local.redis_url'],
    ['prefix with whitespace', (c) => (c.local.redis_prefix = 'a b'), 'replication.local.redis_prefix'],
    ['prefix too long', (c) => (c.local.redis_prefix = 'p'.repeat(65)), 'replication.local.redis_prefix'],
    ['tls with redis://', (c) => (c.local.tls = { ca_file: '/ca.pem' }), 'replication.local.tls'],
    ['cert without key', (c) => { c.local.redis_url = 'rediss://h:1'; c.local.tls = { cert_file: '/c.pem' }; }, 'replication.local.tls.key_file'],
    ['unknown key in local', (c) => (c.local.prefix = 'x'), 'replication.local.prefix'],
    ['unknown top-level section', (c) => (c.setting = {}), 'replication.setting'],
    ['unknown key in hot_path', (c) => (c.settings = { hot_path: { batchsize: 10 } }), 'replication.settings.hot_path.batchsize'],
    ['batch_size not an integer', (c) => (c.settings = { hot_path: { batch_size: 1.5 } }), 'replication.settings.hot_path.batch_size'],
    ['batch_size a string', (c) => (c.settings = { hot_path: { batch_size: '100' } }), 'replication.settings.hot_path.batch_size'],
    ['batch_size below min (adaptive)', (c) => (c.settings = { hot_path: { adaptive_batch_size: true, batch_size: 10 } }), 'replication.settings.hot_path.batch_size'],
    ['batch_size above max (adaptive)', (c) => (c.settings = { hot_path: { adaptive_batch_size: true, batch_size: 5000 } }), 'replication.settings.hot_path.batch_size'],
    ['block_timeout zero', (c) => (c.settings = { hot_path: { block_timeout: 0 } }), 'replication.settings.hot_path.block_timeout'],
    ['block_timeout too long', (c) => (c.settings = { hot_path: { block_timeout: '2m' } }), 'replication.settings.hot_path.block_timeout'],
    ['block_timeout not a duration', (c) => (c.settings = { hot_path: { block_timeout: 'soon' } }), 'replication.settings.hot_path.block_timeout'],
    ['block_timeout a boolean', (c) => (c.settings = { hot_path: { block_timeout: true } }), 'replication.settings.hot_path.block_timeout'],
    ['rate_limit_burst zero', (c) => (c.settings = { hot_path: { rate_limit_burst: 0 } }), 'replication.settings.hot_path.rate_limit_burst'],
    ['backoff base above max', (c) => (c.settings = { cold_path: { backoff_base_sec: 10, backoff_max_sec: 5 } }), 'replication.settings.cold_path.backoff_base_sec'],
    ['interval_sec zero', (c) => (c.settings = { cold_path: { interval_sec: 0 } }), 'replication.settings.cold_path.interval_sec'],
    ['slo negative', (c) => (c.settings = { slo: { max_peer_op_latency_ms: -1 } }), 'replication.settings.slo.max_peer_op_latency_ms'],
    ['tombstone_ttl below 1s', (c) => (c.store = { tombstone_ttl: '500ms' }), 'replication.store.tombstone_ttl'],
    ['max_payload_bytes above 512 MiB', (c) => (c.store = { max_payload_bytes: 512 * 1024 * 1024 + 1 }), 'replication.store.max_payload_bytes'],
    ['cdc_maxlen zero', (c) => (c.store = { cdc_maxlen: 0 }), 'replication.store.cdc_maxlen'],
    ['memory_threshold zero', (c) => (c.store = { memory_threshold: 0 }), 'replication.store.memory_threshold'],
    ['memory_threshold above 1', (c) => (c.store = { memory_threshold: 1.1 }), 'replication.store.memory_threshold'],
    ['unknown log level', (c) => (c.logging = { level: 'verbose' }), 'replication.logging.level'],
    ['listen without host', (c) => (c.http = { listen: ':8790' }), 'replication.http.listen'],
    ['listen with a bad port', (c) => (c.http = { listen: '127.0.0.1:70000' }), 'replication.http.listen'],
    ['api_token too short', (c) => (c.http = { api_token: 'short' }), 'replication.http.api_token'],
    ['empty sqlite_path', (c) => (c.cursor = { sqlite_path: '' }), 'replication.cursor.sqlite_path'],
    ['peers not a list', (c) => (c.peers = {}), 'replication.peers'],
    ['peer without node_id', (c) => (c.peers = [{ redis_url: 'redis://h:2' }]), 'replication.peers[0].node_id'],
    ['peer without redis_url', (c) => (c.peers = [{ node_id: 'n2' }]), 'replication.peers[0].redis_url'],
    ['peer with an unknown key', (c) => (c.peers = [{ node_id: 'n2', redis_url: 'redis://h:2', prio: 1 }]), 'replication.peers[0].prio'],
    ['peer circuit threshold zero', (c) => (c.peers = [{ node_id: 'n2', redis_url: 'redis://h:2', circuit_failure_threshold: 0 }]), 'replication.peers[0].circuit_failure_threshold'],
    ['peer circuit reset zero', (c) => (c.peers = [{ node_id: 'n2', redis_url: 'redis://h:2', circuit_reset_timeout_sec: 0 }]), 'replication.peers[0].circuit_reset_timeout_sec'],
    ['peer fractional priority', (c) => (c.peers = [{ node_id: 'n2', redis_url: 'redis://h:2', priority: 0.5 }]), 'replication.peers[0].priority'],
    ['peer is the local node', (c) => (c.peers = [{ node_id: 'n1', redis_url: 'redis://h:2' }]), 'replication.peers[0].node_id'],
    ['peer on the local stream', (c) => (c.peers = [{ node_id: 'n2', redis_url: 'redis://user:pw@127.0.0.1:6380/0' }]), 'replication.peers[0].redis_url'],
  ];

  it.each(cases)('%s', (_name, mutate, path) => {
    const config = minimal();
    mutate(config);
    expect(pathsOf(config)).toEqual([path]);
  });

  it('refuses min_batch_size above max_batch_size while adaptive', () => {
    const settings = { hot_path: { adaptive_batch_size: true, min_batch_size: 2000, batch_size: 2000 } };
    expect(pathsOf({ ...minimal(), settings })).toEqual([
      'replication.settings.hot_path.min_batch_size',
      'replication.settings.hot_path.batch_size',
    ]);
  });

  it('refuses a duplicate peer node_id at the later entry', () => {
    const peers = [
      { node_id: 'n2', redis_url: 'redis://h:2' },
      { node_id: 'n3', redis_url: 'redis://h:3' },
      { node_id: 'n2', redis_url: 'redis://h:4' },
    ];
    const issues = issuesOf({ ...minimal(), peers });
    expect(issues).toEqual([{ path: 'replication.peers[2].node_id', message: 'duplicate node_id (also peers[0].node_id)' }]);
  });

  it('refuses two peers on the same stream, whatever the credentials and host case', () => {
    const peers = [
      { node_id: 'n2', redis_url: 'redis://Redis.Example:7000', redis_prefix: 'x:' },
      { node_id: 'n3', redis_url: 'rediss://u:p@redis.example:7000/0', redis_prefix: 'x:' },
    ];
    expect(issuesOf({ ...minimal(), peers })).toEqual([
      { path: 'replication.peers[1].redis_url', message: 'same redis_url and redis_prefix as peers[0]: both would be the same stream' },
    ]);
  });

  it('suggests the intended key for a misspelt one', () => {
    const [issue] = issuesOf({ ...minimal(), settings: { hot_path: { batchsize: 10 } } });
    expect(issue?.message).toBe('unknown key (did you mean "batch_size"?)');
  });

  it('lists every issue at once, each on its own line of the message', () => {
    const input = {
      local_node_id: 'bad id',
      local: { redis_url: 'ftp://h:1', extra: 1 },
      settings: { hot_path: { batchsize: 1, block_timeout: 0 }, cold_path: { backoff_base_sec: 9, backoff_max_sec: 1 } },
      peers: [{ node_id: 'n2' }],
    };
    let error: ConfigError | undefined;
    try {
      parseConfig(input, 'node.yaml');
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.code).toBe('invalid_config');
    expect(error?.source).toBe('node.yaml');
    const paths = error?.issues.map((issue) => issue.path).sort();
    expect(paths).toEqual([
      'replication.local.extra',
      'replication.local.redis_url',
      'replication.local_node_id',
      'replication.peers[0].redis_url',
      'replication.settings.cold_path.backoff_base_sec',
      'replication.settings.hot_path.batchsize',
      'replication.settings.hot_path.block_timeout',
    ]);
    const lines = error?.message.split('\n') ?? [];
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line).toMatch(/^node\.yaml: replication[.\w[\]]*: \S/);
    expect(lines).toContain('node.yaml: replication.peers[0].redis_url: required');
  });

  it('refuses non-objects at the root', () => {
    for (const input of [null, undefined, 42, 'replication', [], true]) {
      expect(pathsOf(input)).toEqual(['replication']);
    }
  });
});
