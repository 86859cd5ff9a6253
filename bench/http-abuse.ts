/**
 * HTTP abuse: how fast `/health` answers, and how much memory the daemon holds, while hostile
 * clients are connected. A real daemon (`bin/replication-engine.js`, needs `npm run build`) on a
 * harness redis-server, with the default `http:` limits; meanwhile
 * - 60 connections each announce a 16 MiB PUT, send 15 MB and stall (each reconnects when the
 *   server closes it, so the pressure lasts the whole run);
 * - one client PUTs a 16 MiB nested JSON body (`[` × 8 Mi, `]` × 8 Mi) over and over;
 * - a separate prober process GETs `/health` on a fresh connection every 50 ms.
 * Prints the `/health` latency (p50/p99/max), how many probes failed, and the daemon's peak RSS
 * (VmHWM). `--cli PATH` measures another build (e.g. an older checkout's bin/replication-engine.js).
 *
 *   npx tsx bench/http-abuse.ts [--seconds 20] [--stallers 60] [--no-nested] [--flat] [--cli path/to/bin/replication-engine.js]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from '../test/support/redis-server.js';
import { intArg, machine } from './support.js';

const MiB = 1024 * 1024;
const ANNOUNCED = 16 * MiB;
const SENT = 15_000_000;

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

const PROBER = `
const http = require('node:http');
const [url, ms] = [process.argv[1], Number(process.argv[2])];
const latencies = []; let failed = 0;
const end = Date.now() + ms;
function probe() {
  if (Date.now() > end) { process.stdout.write(JSON.stringify({ latencies, failed })); return; }
  const t = performance.now();
  const req = http.get(url + '/health', { agent: false, timeout: 10000 }, (res) => {
    res.resume();
    res.on('end', () => { if (res.statusCode === 200) latencies.push(performance.now() - t); else failed++; setTimeout(probe, 50); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => { failed++; setTimeout(probe, 50); });
}
probe();
`;

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function vmKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

async function main(): Promise<void> {
  const seconds = intArg('seconds', 20);
  const stallers = process.argv.includes('--stallers') ? Number(argValue('stallers')) : 60;
  const nestedOn = !process.argv.includes('--no-nested');
  const cli = argValue('cli') ?? fileURLToPath(new URL('../bin/replication-engine.js', import.meta.url));
  const redis = await startRedis({});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'http-abuse-'));
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, [
    'replication:',
    '  local_node_id: abuse',
    `  local: { redis_url: "${redis.url}" }`,
    '  http: { listen: "127.0.0.1:0" }',
    `  cursor: { sqlite_path: "${path.join(dir, 'cursors.db')}" }`,
  ].join('\n'));
  const daemon = spawn(process.execPath, [cli, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info' } });
  let stop = false;
  const sockets = new Set<net.Socket>();
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let buffered: string | null = '';
      daemon.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        if (buffered === null) return;
        buffered += chunk;
        const m = /"url":"(http:\/\/[^"]+)"[^\n]*HTTP API listening|HTTP API listening[^\n]*"url":"(http:\/\/[^"]+)"/.exec(buffered);
        const found = m?.[1] ?? m?.[2];
        if (found) {
          buffered = null;
          resolve(found);
        }
      });
      daemon.once('exit', (code) => reject(new Error(`daemon exited with ${code}`)));
    });
    const { port } = new URL(url);
    const pid = daemon.pid!;
    const baselineKb = vmKb(pid, 'VmRSS');

    const body = Buffer.alloc(SENT, 0x61);
    let refused = 0;
    const stall = (n: number): void => {
      if (stop) return;
      const socket = net.connect(Number(port), '127.0.0.1');
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('data', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        refused++;
        setTimeout(() => stall(n), 100);
      });
      socket.write(`PUT /v1/items/stall-${n} HTTP/1.1\r\nHost: x\r\nContent-Length: ${ANNOUNCED}\r\n\r\n`);
      socket.write(body);
    };
    for (let i = 0; i < stallers; i++) stall(i);

    // --flat: a valid 16 MiB JSON document instead (`[0,0,…,0]`), scanned to its end and stored.
    const nested = Buffer.alloc(16 * MiB, 0x5b);
    if (process.argv.includes('--flat')) {
      for (let i = 1; i < nested.length - 1; i += 2) nested[i] = 0x30;
      for (let i = 2; i < nested.length - 1; i += 2) nested[i] = 0x2c;
      nested[nested.length - 2] = 0x20;
      nested[nested.length - 1] = 0x5d;
    } else {
      nested.fill(0x5d, 8 * MiB);
    }
    const nestedStatuses: number[] = [];
    const nestedLoop = (async () => {
      while (!stop && nestedOn) {
        try {
          const res = await fetch(`${url}/v1/items/nested`, { method: 'PUT', body: nested, headers: { 'Content-Type': 'application/json' } });
          await res.arrayBuffer();
          nestedStatuses.push(res.status);
        } catch {
          nestedStatuses.push(0);
        }
      }
    })();

    let peakSampledKb = 0;
    const sampler = setInterval(() => {
      peakSampledKb = Math.max(peakSampledKb, vmKb(pid, 'VmRSS'));
    }, 100);
    const prober = spawn(process.execPath, ['-e', PROBER, url, String(seconds * 1000)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    prober.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    await new Promise((resolve) => prober.once('exit', resolve));
    clearInterval(sampler);
    const peakKb = vmKb(pid, 'VmHWM');
    stop = true;
    for (const s of sockets) s.destroy();
    await nestedLoop;

    const { latencies, failed } = JSON.parse(out) as { latencies: number[]; failed: number };
    const sorted = [...latencies].sort((a, b) => a - b);
    const counts = nestedStatuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
    console.log(JSON.stringify({
      machine: machine(), cli, seconds, stallers, nested: nestedOn,
      health_ms: { probes: latencies.length, failed, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) },
      daemon_rss_mb: { baseline: Math.round(baselineKb / 1024), peak_sampled: Math.round(peakSampledKb / 1024), peak_vmhwm: Math.round(peakKb / 1024) },
      staller_connections_closed_by_server: refused,
      nested_json_put_statuses: counts,
    }, null, 1));
  } finally {
    stop = true;
    for (const s of sockets) s.destroy();
    daemon.kill('SIGKILL');
    await redis.stop();
  }
}

await main();
