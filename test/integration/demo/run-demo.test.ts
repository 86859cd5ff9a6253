// `replication-engine demo`, run in-process: the quick profile converges, says so, and leaves no
// redis-server, port or temp dir behind — also when interrupted, and without redis-server on PATH.
import { existsSync } from 'node:fs';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EXIT_INTERRUPTED, runDemo, type DemoResult } from '../../../src/demo/run-demo.js';
import { isAlive } from '../../support/process-alive.js';

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { out, text: () => text };
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function expectNothingLeft(result: DemoResult): Promise<void> {
  expect(result.redis).toHaveLength(3);
  for (const r of result.redis) {
    expect(isAlive(r.pid), `redis-server ${r.name} (pid ${r.pid}) still alive`).toBe(false);
    expect(await refuses(r.port), `port ${r.port} of ${r.name} still accepts connections`).toBe(true);
  }
  expect(result.tempDir).not.toBeNull();
  expect(existsSync(result.tempDir as string)).toBe(false);
}

describe('replication-engine demo', () => {
  it('--quick: cuts berlin off, heals, and converges; then nothing is left running', async () => {
    const { out, text } = capture();
    const result = await runDemo({ quick: true, out });
    expect(result.exitCode, text()).toBe(0);
    expect(text()).toMatch(/^converged: 3 nodes, \d+ keys, root [0-9a-f]+$/m);
    expect(text()).toContain('act 2/3 — berlin cut off');
    expect(text()).toMatch(/berlin ← (london|paris): gap/);
    expect(text()).toMatch(/berlin ← (london|paris): circuit open/);
    expect(text()).toMatch(/berlin ← (london|paris): cold path repaired \d+ keys?/);
    expect(result.report?.converged).toBe(true);
    expect(result.report?.keys).toBeGreaterThan(0);
    // Not a terminal: plain lines, no cursor movement.
    expect(text()).not.toContain('\x1b[');
    await expectNothingLeft(result);
  }, 40_000);

  it('an interrupt stops it cleanly with exit code 130', async () => {
    const { out, text } = capture();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const result = await runDemo({ quick: true, out, signal: controller.signal });
    expect(result.exitCode, text()).toBe(EXIT_INTERRUPTED);
    expect(text()).toContain('interrupted');
    expect(text()).not.toContain('converged:');
    await expectNothingLeft(result);
  }, 30_000);

  it('without redis-server on PATH: exit 1 and how to install it, nothing started', async () => {
    const { out, text } = capture();
    const result = await runDemo({ quick: true, out, pathEnv: '' });
    expect(result.exitCode).toBe(1);
    expect(text()).toContain('redis-server was not found on PATH');
    expect(text()).toMatch(/apt-get install redis-server|brew install redis/);
    expect(result.redis).toEqual([]);
    expect(result.tempDir).toBeNull();
  });
});
