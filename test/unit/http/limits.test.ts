/** The `http:` limits: parsed with their units, cross-checked, and handed to the server as limits. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { parseConfig } from '../../../src/config/parse.js';
import { DEFAULT_HTTP_LIMITS, limitsFromConfig } from '../../../src/http/index.js';

function withHttp(http: Record<string, unknown>): unknown {
  return { local_node_id: 'n1', local: { redis_url: 'redis://127.0.0.1:6380' }, http };
}

function issuePaths(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => i.path);
  }
  throw new Error('expected the config to be refused');
}

describe('http limits in the configuration', () => {
  it('defaults to the server defaults', () => {
    expect(limitsFromConfig(parseConfig(withHttp({})).http)).toEqual(DEFAULT_HTTP_LIMITS);
  });

  it('parses durations and sizes', () => {
    const http = parseConfig(withHttp({
      max_connections: 10, max_inflight_body_bytes: 32 * 1024 * 1024, max_json_depth: 16,
      headers_timeout: '2s', request_timeout: '1m', keep_alive_timeout: '500ms', store_timeout: '250ms',
    })).http;
    expect(limitsFromConfig(http)).toEqual({
      maxConnections: 10, maxInflightBodyBytes: 32 * 1024 * 1024, maxJsonDepth: 16,
      headersTimeoutMs: 2000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 500, storeTimeoutMs: 250,
    });
  });

  it('refuses a header deadline past the request deadline, and out-of-range limits', () => {
    expect(issuePaths(withHttp({ headers_timeout: '20s', request_timeout: '10s' }))).toEqual(['replication.http.headers_timeout']);
    for (const bad of [{ max_connections: 0 }, { store_timeout: '1ms' }, { max_json_depth: 0 }, { keep_alive_timeout: 'forever' }]) {
      expect(issuePaths(withHttp(bad)).length, JSON.stringify(bad)).toBe(1);
    }
  });
});
