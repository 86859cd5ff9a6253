import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { allowedKeysAt } from '../../../src/config/issues.js';
import { replicationConfigSchema } from '../../../src/config/schema.js';
import { loadConfigFile, loadConfigFileSync, parseConfigText } from '../../../src/config/load.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/node.yaml', import.meta.url));
const DOCS = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));

/** Every leaf option of the schema, as [parent path, key]. */
function leafOptions(path: (string | number)[] = []): [string, string][] {
  return allowedKeysAt(replicationConfigSchema, path).flatMap((key): [string, string][] => {
    const child = key === 'peers' ? [...path, key, 0] : [...path, key];
    const nested = leafOptions(child);
    return nested.length > 0 ? nested : [[path.filter((s) => typeof s === 'string').join('.'), key]];
  });
}

const dir = mkdtempSync(join(tmpdir(), 'config-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const VALID = 'replication:\n  local_node_id: n1\n  local: { redis_url: "redis://127.0.0.1:6380" }\n';

describe('loading config files', () => {
  it('loads examples/node.yaml (the annotated seed) without any environment', async () => {
    const config = await loadConfigFile(EXAMPLE, {});
    expect(config.local_node_id).toBe('uk.node.london-1');
    expect(config.local).toEqual({ redis_url: 'redis://127.0.0.1:6380', redis_prefix: 'london:' });
    expect(config.peers.map((peer) => peer.node_id)).toEqual(['uk.node.manchester-1']);
    expect(config.settings.hot_path.adaptive_batch_size).toBe(true);
    expect(config.settings.slo.max_replication_lag_sec).toBe(60);
    expect(config.cursor.sqlite_path).toBe('london-cursors.db');
    expect(config.store.tombstone_ttl).toBe(604_800_000);
  });

  it('the example and the reference document every option', () => {
    const example = readFileSync(EXAMPLE, 'utf8');
    const docs = readFileSync(DOCS, 'utf8');
    const leaves = leafOptions();
    expect(leaves.length).toBeGreaterThan(50);
    for (const [parent, key] of leaves) {
      expect(example, `${parent}.${key} in examples/node.yaml`).toMatch(new RegExp(`\\b${key}:`));
      expect(docs, `${parent}.${key} in docs/configuration.md`).toMatch(new RegExp(`\\b${key}\\b`));
    }
  });

  it('loads a file asynchronously and synchronously alike', async () => {
    const file = join(dir, 'node.yaml');
    writeFileSync(file, VALID);
    expect(await loadConfigFile(file, {})).toEqual(loadConfigFileSync(file, {}));
  });

  it('refuses a missing file with a ConfigError naming it', async () => {
    const file = join(dir, 'absent.yaml');
    await expect(loadConfigFile(file, {})).rejects.toMatchObject({ code: 'invalid_config', source: file, issues: [{ path: '', message: 'file not found' }] });
    expect(refusal(() => loadConfigFileSync(file, {})).message).toBe(`${file}: file not found`);
  });

  it('names the file in every line of the message', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'replication:\n  local_node_id: n1\n  local: { redis_url: "redis://h:1" }\n  settings: { hot_path: { batchsize: 1, batch_size: 0 } }\n');
    const error = await loadConfigFile(file, {}).catch((e: unknown) => e as ConfigError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split('\n')).toEqual([
      `${file}: replication.settings.hot_path.batch_size: must be at least 1 (line 4, column 41)`,
      `${file}: replication.settings.hot_path.batchsize: unknown key (did you mean "batch_size"?) (line 4, column 27)`,
    ]);
  });
});

describe('parseConfigText', () => {
  it('reports a YAML syntax error with its line and column, without echoing the line', () => {
    const error = refusal(() => parseConfigText('replication:\n  local_node_id: n1\n  local: { redis_url: "redis://h:1", password: "hunter2\n', { source: 'n.yaml', env: {} }));
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues[0]?.line).toBeGreaterThanOrEqual(3);
    expect(error.issues[0]?.message).toMatch(/^YAML syntax error: /);
    expect(error.message).toMatch(/^n\.yaml: YAML syntax error: .*\(line \d+, column \d+\)/);
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses duplicate keys', () => {
    const error = refusal(() => parseConfigText('replication:\n  local_node_id: n1\n  local_node_id: n2\n', { env: {} }));
    expect(error.issues[0]).toMatchObject({ path: '', line: 3 });
    expect(error.issues[0]?.message).toMatch(/unique/);
  });

  it('requires the replication key and nothing else at the top level', () => {
    expect(refusal(() => parseConfigText('', { env: {} })).issues.map((i) => i.path)).toEqual(['replication']);
    expect(refusal(() => parseConfigText('replication:\n', { env: {} })).issues.map((i) => i.path)).toEqual(['replication']);
    expect(refusal(() => parseConfigText('- a\n- b\n', { env: {} })).issues.map((i) => i.path)).toEqual(['']);
    const error = refusal(() => parseConfigText(`${VALID}replicaton: {}\n`, { env: {} }));
    expect(error.issues).toEqual([{ path: 'replicaton', message: 'unknown key (did you mean "replication"?)', line: 4, column: 1 }]);
  });

  it('refuses an alias bomb', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i += 1) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`);
    lines.push('replication: *i');
    expect(refusal(() => parseConfigText(lines.join('\n'), { env: {} })).issues).toHaveLength(1);
  });

  it('points at the key of a missing or misplaced field', () => {
    const error = refusal(() => parseConfigText('replication:\n  local_node_id: n1\n  local:\n    redis_prefix: "a:"\n', { env: {} }));
    expect(error.issues).toEqual([{ path: 'replication.local.redis_url', message: 'required', line: 3, column: 3 }]);
  });

  it('refuses a YAML value that is not a JSON type (a date) with a type error', () => {
    const error = refusal(() => parseConfigText(`${VALID}  cursor: { sqlite_path: !!timestamp 2001-12-14 }\n`, { env: {} }));
    expect(error.issues.map((i) => i.path)).toEqual(['replication.cursor.sqlite_path']);
  });
});
