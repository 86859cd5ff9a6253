import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { escapeEnvReferences, substituteEnvInTree, substituteString } from '../../../src/config/env.js';
import { parseConfigText } from '../../../src/config/load.js';

describe('substituteString', () => {
  const env = { HOST: 'redis.internal', EMPTY: '', PW: 'p"a:s{s}$' };

  it.each([
    ['redis://${HOST}:6380', 'redis://redis.internal:6380'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${HOST:-fallback}', 'redis.internal'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${MISSING:-}', ''],
    ['$${HOST}', '${HOST}'],
    ['cost: $5 and $$ and $', 'cost: $5 and $$ and $'],
    ['${HOST}${HOST}', 'redis.internal' + 'redis.internal'],
    ['${PW}', 'p"a:s{s}$'],
    ['no references', 'no references'],
  ])('%j becomes %j', (input, output) => {
    expect(substituteString(input, env)).toEqual({ ok: true, value: output });
  });

  it('keeps an empty variable without a default as empty', () => {
    expect(substituteString('[${EMPTY}]', env)).toEqual({ ok: true, value: '[]' });
  });

  it('does not substitute inside a substituted value', () => {
    expect(substituteString('${A}', { A: '${B}', B: 'no' })).toEqual({ ok: true, value: '${B}' });
  });

  it.each([
    ['${MISSING}', /environment variable MISSING is not set/],
    ['${UNCLOSED', /unterminated/],
    ['${}', /invalid \$\{…\} reference/],
    ['${1BAD}', /invalid/],
    ['${A-default}', /invalid/],
    ['${A:-${B}}', /nested/],
  ])('refuses %j', (input, message) => {
    const result = substituteString(input, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('escapes literals so that substitution gives them back', () => {
    for (const literal of ['${X}', '$${X}', 'a$b', '${', '$$${X:-y}']) {
      expect(substituteString(escapeEnvReferences(literal), {})).toEqual({ ok: true, value: literal });
    }
  });
});

describe('substituteEnvInTree', () => {
  it('substitutes string values at any depth, never keys, and leaves other scalars alone', () => {
    const tree = { a: ['${X}', 1, true, null], '${X}': { b: 'x=${X}' } };
    expect(substituteEnvInTree(tree, { X: 'v' })).toEqual({ value: { a: ['v', 1, true, null], '${X}': { b: 'x=v' } }, issues: [] });
  });

  it('reports every failure with its path', () => {
    const result = substituteEnvInTree({ a: '${A}', b: ['ok', '${B}'] }, {}, ['replication']);
    expect(result.issues.map((issue) => issue.path)).toEqual([['replication', 'a'], ['replication', 'b', 1]]);
  });
});

describe('env substitution when loading', () => {
  const text = [
    'replication:',
    '  local_node_id: "${NODE_ID:-n1}"',
    '  local:',
    '    redis_url: "redis://${REDIS_HOST}:6380"',
    '    password: ${REDIS_PASSWORD}',
    '  http: { api_token: "$${not-a-reference}-literal" }',
  ].join('\n');

  it('substitutes set variables and defaults, keeps escapes literal', () => {
    const secret = 'se"cr:et #\n- [x]';
    const config = parseConfigText(text, { env: { REDIS_HOST: '10.0.0.5', REDIS_PASSWORD: secret } });
    expect(config.local_node_id).toBe('n1');
    expect(config.local.redis_url).toBe('redis://10.0.0.5:6380');
    expect(config.local.password).toBe(secret);
    expect(config.http.api_token).toBe('${not-a-reference}-literal');
  });

  it('names the path and variable of each missing variable, and its line', () => {
    let error: ConfigError | undefined;
    try {
      parseConfigText(text, { source: 'node.yaml', env: {} });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.issues.map((issue) => [issue.path, issue.line])).toEqual([
      ['replication.local.redis_url', 4],
      ['replication.local.password', 5],
    ]);
    expect(error?.message).toContain('node.yaml: replication.local.redis_url: environment variable REDIS_HOST is not set');
    expect(error?.message).toContain('node.yaml: replication.local.password: environment variable REDIS_PASSWORD is not set');
  });

  it('does not echo a substituted secret in errors', () => {
    const secret = 'hunter2-hunter2';
    const bad = text.replace('${REDIS_PASSWORD}', '${REDIS_PASSWORD}').replace('api_token: "$${not-a-reference}-literal"', 'api_token: "${TOKEN}"');
    try {
      parseConfigText(bad, { env: { REDIS_HOST: 'h', REDIS_PASSWORD: secret, TOKEN: 'short-secret' } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).issues.map((issue) => issue.path)).toEqual(['replication.http.api_token']);
      expect((e as ConfigError).message).not.toContain('short-secret');
      expect((e as ConfigError).message).not.toContain(secret);
    }
  });
});
