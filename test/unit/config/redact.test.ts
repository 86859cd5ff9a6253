import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { parseConfig } from '../../../src/config/parse.js';
import { redactConfig, redactRedisUrl } from '../../../src/config/redact.js';
import { restartRequiredChanges } from '../../../src/config/restart.js';

const SECRET = 'hunter2-very-secret';

function config() {
  return parseConfig({
    local_node_id: 'n1',
    local: { redis_url: `redis://app:${SECRET}@127.0.0.1:6380`, password: SECRET, tls: undefined },
    http: { api_token: `${SECRET}-token` },
    peers: [{ node_id: 'n2', redis_url: `rediss://:${SECRET}@peer:6381`, password: SECRET, tls: { ca_file: '/ca.pem' } }],
  });
}

describe('redactConfig', () => {
  it('replaces passwords, URL passwords and the API token with ***', () => {
    const redacted = redactConfig(config());
    const text = JSON.stringify(redacted);
    expect(text).not.toContain(SECRET);
    expect(redacted.local.password).toBe('***');
    expect(redacted.local.redis_url).toBe('redis://app:***@127.0.0.1:6380');
    expect(redacted.peers[0]?.redis_url).toBe('rediss://:***@peer:6381');
    expect(redacted.peers[0]?.tls).toEqual({ ca_file: '/ca.pem', reject_unauthorized: true });
    expect(redacted.http.api_token).toBe('***');
  });

  it('leaves the original untouched and keeps everything else', () => {
    const original = config();
    const redacted = redactConfig(original);
    expect(original.local.password).toBe(SECRET);
    expect(redacted.settings).toEqual(original.settings);
    expect(redacted.peers[0]?.node_id).toBe('n2');
  });

  it('keeps a config without secrets identical', () => {
    const plain = parseConfig({ local_node_id: 'n1', local: { redis_url: 'redis://127.0.0.1:6380' } });
    expect(redactConfig(plain)).toEqual(plain);
  });

  it('redacts only the password of a URL; an unparseable URL entirely', () => {
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1');
    expect(redactRedisUrl('redis://user@h:1')).toBe('redis://user@h:1');
    expect(redactRedisUrl(`redis://u:${SECRET}@h:1/2`)).toBe('redis://u:***@h:1/2');
    expect(redactRedisUrl(`not a url ${SECRET}`)).toBe('***');
  });
});

describe('error messages never echo secrets', () => {
  it.each([
    ['a URL with a wrong scheme', { local: { redis_url: `http://u:${SECRET}@h:1` } }],
    ['an unparseable URL', { local: { redis_url: `redis://u:${SECRET}@` } }],
    ['a password of the wrong type', { local: { redis_url: 'redis://h:1', password: 12345 } }],
    ['a short token', { http: { api_token: SECRET.slice(0, 10) } }],
    ['a secret in a duration field', { store: { tombstone_ttl: SECRET } }],
    ['a secret in an enum field', { logging: { level: SECRET } }],
  ])('%s', (_name, patch) => {
    const input = { local_node_id: 'n1', local: { redis_url: 'redis://h:1' }, ...patch };
    try {
      parseConfig(input);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).not.toContain(SECRET.slice(0, 7));
      expect((error as ConfigError).message).not.toContain('12345');
    }
  });
});

describe('restartRequiredChanges', () => {
  const base = { local_node_id: 'n1', local: { redis_url: 'redis://127.0.0.1:6380' } };

  it('is empty for changes that apply live', () => {
    const next = parseConfig({
      ...base,
      http: { api_token: 'x'.repeat(16) },
      settings: { hot_path: { batch_size: 7 } },
      store: { cdc_maxlen: 10, emit_replicated: false, max_payload_bytes: 1024 },
      peers: [{ node_id: 'n2', redis_url: 'redis://127.0.0.1:6381' }],
    });
    expect(restartRequiredChanges(parseConfig(base), next)).toEqual([]);
  });

  it('lists node id, local store, cursor, HTTP listener and log level changes', () => {
    const next = parseConfig({
      local_node_id: 'n9',
      local: { redis_url: 'redis://127.0.0.1:6380', redis_prefix: 'p:' },
      cursor: { wal_mode: false },
      http: { listen: '127.0.0.1:9999', enabled: false },
      logging: { level: 'debug' },
    });
    expect(restartRequiredChanges(parseConfig(base), next)).toEqual([
      'replication.local_node_id', 'replication.local', 'replication.cursor', 'replication.http.listen', 'replication.http.enabled',
      'replication.logging.level',
    ]);
  });
});
