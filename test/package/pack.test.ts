// The package as a user gets it: `npm pack` in a copy of the clone (tracked files only, no dist/), the
// tarball installed into an empty project, then its CLI, its library (JavaScript and TypeScript) and its
// Lua scripts used there against a real redis-server.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../support/redis-server.js';

const run = promisify(execFile);
const REPO = path.resolve(new URL('../..', import.meta.url).pathname);
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe('npm pack from a clean clone, installed into an empty project', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-pack-'));
  const clone = path.join(tmp, 'clone');
  const app = path.join(tmp, 'app');
  let pack: PackResult;
  let redis: RedisServer;
  const bin = (): string => path.join(app, 'node_modules', '.bin', 'replication-engine');

  beforeAll(async () => {
    // What a clone holds: the tracked (and new, unignored) files, so no dist/ from an earlier build.
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f !== '');
    for (const f of files) {
      mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
      cpSync(path.join(REPO, f), path.join(clone, f));
    }
    // The clone's `npm ci` would install the same devDependencies; the build only needs them.
    symlinkSync(path.join(REPO, 'node_modules'), path.join(clone, 'node_modules'));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: clone, maxBuffer: 16 * 1024 * 1024 });
    pack = (JSON.parse(packed.stdout) as PackResult[])[0]!;

    mkdirSync(app);
    // An ESM project, as the package requires; allowScripts approves the two native builds (npm 11).
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({
      name: 'consumer', private: true, type: 'module', allowScripts: { 'better-sqlite3': true, 'zstd-napi': true },
    }));
    // Build the native modules from source: prebuilt binaries would come from outside the npm registry.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(tmp, pack.filename)], {
      cwd: app,
      env: { ...process.env, npm_config_build_from_source: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    });
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('ships the compiled CLI and library, declarations, Lua scripts, LICENSE and ops files, and no source maps', () => {
    const paths = pack.files.map((f) => f.path);
    for (const expected of [
      'LICENSE', 'README.md', 'bin/replication-engine.js', 'dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts',
      'dist/store/commands/apply.lua', 'examples/node.yaml', 'ops/systemd/replication-engine.service',
      'ops/grafana/replication-engine.json', 'ops/prometheus/alerts.yml',
    ]) expect(paths).toContain(expected);
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(paths.filter((p) => p.startsWith('src/') || p.startsWith('test/'))).toEqual([]);
    const installed = path.join(app, 'node_modules', 'replication-engine');
    const jsFiles = paths.filter((p) => p.endsWith('.js'));
    const dangling = jsFiles.filter((p) => readFileSync(path.join(installed, p), 'utf8').includes('sourceMappingURL'));
    expect(dangling).toEqual([]);
  });

  it('runs the CLI: --help, --version, check', async () => {
    const help = await run(bin(), ['--help']);
    for (const command of ['run', 'check', 'status', 'verify', 'init', 'demo']) expect(help.stdout).toContain(command);
    expect((await run(bin(), ['--version'])).stdout.trim()).toBe(VERSION);
    const example = path.join(app, 'node_modules', 'replication-engine', 'examples', 'node.yaml');
    const checked = await run(bin(), ['check', '--config', example]);
    expect(checked.stdout).toContain('valid');
    await expect(run(bin(), ['check', '--config', path.join(app, 'missing.yaml')])).rejects.toMatchObject({ code: 2 });
  });

  it('imports the library and runs its Lua scripts against a real Redis', async () => {
    const script = `
      import { RedisStore, parseConfig } from 'replication-engine';
      const config = parseConfig({ local_node_id: 'consumer-1' });
      const store = await RedisStore.connect({ url: process.env.REDIS_URL, prefix: 'c:', nodeId: 'consumer-1' });
      await store.put('k', Buffer.from('{"a":1}'), { contentType: 'json' });
      const got = await store.get('k');
      console.log(JSON.stringify({ local: config.local, content: got.content.toString(), root: await store.merkleRoot() }));
      await store.close();
    `;
    const out = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app, env: { ...process.env, REDIS_URL: redis.url } });
    const result = JSON.parse(out.stdout) as { local: unknown; content: string; root: string };
    expect(result.local).toEqual({ redis_url: 'redis://127.0.0.1:6379', redis_prefix: 'consumer-1:' });
    expect(result.content).toBe('{"a":1}');
    expect(result.root).not.toMatch(/^0+$/);
  });

  it('type-checks a TypeScript consumer against the shipped declarations', async () => {
    writeFileSync(path.join(app, 'consumer.ts'), [
      "import { parseConfig, type ReplicationConfig } from 'replication-engine';",
      "const config: ReplicationConfig = parseConfig({ local_node_id: 'ts-1' });",
      'export const prefix: string = config.local.redis_prefix;',
      '',
    ].join('\n'));
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ['consumer.ts'],
    }));
    await run(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app });
  });
});
