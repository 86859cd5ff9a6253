// An earlier version of the engine, built from this repository's git history, for tests that run
// a mesh of mixed versions (a rolling upgrade). Built once per commit under node_modules/.cache/
// (bare imports such as ioredis resolve from the repository's node_modules), with tsc and the Lua
// copy step as `npm run build` does.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The last commit whose engine writes store format v3 (tictac/v3). */
export const STORE_V3_RELEASE = '32c6dc8f504ab6d6b0f71304f64d682e107c4b80';

/** The CLI (bin/replication-engine.js) of `commit`, built if needed. Needs the repository's git history. */
export function previousReleaseCli(commit: string): string {
  const out = path.join(ROOT, 'node_modules', '.cache', `re-release-${commit.slice(0, 12)}`);
  const cli = path.join(out, 'bin', 'replication-engine.js');
  if (existsSync(path.join(out, 'dist', 'cli', 'main.js'))) return cli;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  let tar: Buffer;
  try {
    tar = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', commit, 'src', 'bin', 'scripts/copy-lua.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json']);
  } catch (err) {
    throw new Error(`building the release at ${commit} needs this repository's git history (a clone with that commit): ${String(err)}`);
  }
  execFileSync('tar', ['-x', '-C', out], { input: tar });
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(out, 'tsconfig.build.json'), '--noCheck'], { cwd: out, stdio: 'inherit' });
  execFileSync(process.execPath, [path.join(out, 'scripts', 'copy-lua.mjs')], { cwd: out, stdio: 'inherit' });
  return cli;
}
