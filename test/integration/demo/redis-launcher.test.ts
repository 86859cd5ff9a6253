// The launcher as a user runs it: executed as a program (sh runs its second line, which starts
// node with the engine's V8 flags), and as `node bin/replication-engine.js`.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../../support/daemon-process.js';

const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('bin/replication-engine.js', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-launcher-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('run as a program, starts node with --max-semi-space-size=8 and the CLI', () => {
    // A `node` first on PATH that records its arguments, then runs the real node with them.
    const argsFile = path.join(tmp, 'args');
    const shim = path.join(tmp, 'node');
    writeFileSync(shim, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\nexec '${process.execPath}' "$@"\n`);
    chmodSync(shim, 0o755);
    const out = execFileSync(CLI, ['--version'], { env: { ...process.env, PATH: `${tmp}${path.delimiter}${process.env['PATH'] ?? ''}` }, encoding: 'utf8' });
    expect(out.trim()).toBe(version);
    expect(readFileSync(argsFile, 'utf8').split('\n').slice(0, 3)).toEqual(['--max-semi-space-size=8', CLI, '--version']);
  });

  it('run by node directly, skips the sh line and runs the CLI', () => {
    expect(execFileSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' }).trim()).toBe(version);
  });
});
