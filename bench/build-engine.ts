/**
 * Compiles bench/engine-child.ts and the sources it imports to plain JavaScript (tsc, no type
 * check: `npm run typecheck` does that) under node_modules/.cache/, so the engine processes run
 * on bare Node as the daemon does. Under tsx's loader a process carries ~28 MiB more (a loader
 * thread with its own V8 heap), which would be counted as the engine's memory in B5.
 * The output sits inside node_modules/ so that bare imports (ioredis, …) resolve as usual.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'node_modules', '.cache', 're-bench-engine');

let built: string | null = null;

export function buildEngineChild(): string {
  if (built) return built;
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  const config = path.join(OUT, 'tsconfig.json');
  writeFileSync(config, JSON.stringify({
    extends: path.join(ROOT, 'tsconfig.json'),
    compilerOptions: { noEmit: false, noCheck: true, rootDir: ROOT, outDir: OUT, declaration: false, sourceMap: false },
    include: [],
    files: [path.join(ROOT, 'bench', 'engine-child.ts')],
  }));
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { stdio: 'inherit' });
  // The store loads its Lua scripts from beside its compiled module (as scripts/copy-lua.mjs does for dist/).
  for (const dir of ['commands', path.join('commands', 'includes')]) {
    const luaSrc = path.join(ROOT, 'src', 'store', dir);
    const luaOut = path.join(OUT, 'src', 'store', dir);
    mkdirSync(luaOut, { recursive: true });
    for (const f of readdirSync(luaSrc)) if (f.endsWith('.lua')) copyFileSync(path.join(luaSrc, f), path.join(luaOut, f));
  }
  built = path.join(OUT, 'bench', 'engine-child.js');
  return built;
}
