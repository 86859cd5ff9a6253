/**
 * B6 — HTTP PUT throughput, and B7 — Redis memory per record, measured together as a user would see
 * them: N records of ~190-byte JSON written through the HTTP API over 64 keep-alive connections, each
 * key written once, into an empty Redis (`store.cdc_maxlen: 1000`, so the CDC stream is negligible).
 *
 * Subjects, alternated run after run, each a child process on bare Node against its own fresh
 * redis-server:
 * - the daemon (`replication-engine run`, built CLI in dist/, no peers, default settings otherwise);
 * - the baseline (bench/plain-put-server.mjs): node:http doing one plain `SET key body` per request.
 *
 * Per subject and run: PUTs/s over the whole load, p50/p99 latency, CPU µs per PUT of the server
 * process (/proc/<pid>/stat) and of its redis-server, and `used_memory` after the load minus before,
 * per record. B7's overhead is the store's bytes per record minus the baseline's.
 */
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { DaemonProcess } from '../test/support/daemon-process.js';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { processCpuMs } from './b1-hot-path.js';
import { percentile, row, type RunOptions, type Section } from './report.js';
import { fmt, median } from './support.js';

const CONNECTIONS = 64;
const BASELINE = fileURLToPath(new URL('./plain-put-server.mjs', import.meta.url));

/** ~190 bytes of JSON, different per record (as records are). Also bench/memory-parts.ts's. */
export function b7Body(i: number): Buffer {
  return Buffer.from(JSON.stringify({ id: i, name: `Patient ${i}`, ward: i % 40, admitted: 1_735_776_000_000 + i, notes: 'n'.repeat(100 + (i % 17)) }));
}

export const b7Key = (i: number): string => `patient/${String(i).padStart(7, '0')}`;

interface Server {
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const PROFILES = fileURLToPath(new URL('./profiles/', import.meta.url));

async function startDaemon(redis: RedisServer, tmp: string, profile: boolean): Promise<Server> {
  const config = path.join(tmp, 'node.yaml');
  writeFileSync(config, JSON.stringify({
    replication: {
      local_node_id: 'B6',
      local: { redis_url: redis.url, redis_prefix: 'b6:' },
      http: { listen: '127.0.0.1:0' },
      peers: [],
      store: { cdc_maxlen: 1000 },
      cursor: { sqlite_path: path.join(tmp, 'cursors.db') },
    },
  }));
  // --profile: a V8 CPU profile of the daemon, written when it exits (SIGTERM: its clean shutdown).
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`, `--cpu-prof-name=b6-daemon-${Date.now()}.cpuprofile`] : [];
  const daemon = await DaemonProcess.run(config, ['--no-watch'], {}, nodeArgs);
  const stop = async (): Promise<void> => {
    if (!profile) return daemon.kill();
    daemon.signal('SIGTERM');
    await daemon.exitCode();
  };
  return { port: Number(new URL(daemon.url).port), pid: daemon.proc.pid, stop };
}

async function startBaseline(redis: RedisServer, profile: boolean): Promise<Server> {
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`, `--cpu-prof-name=b6-baseline-${Date.now()}.cpuprofile`] : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, BASELINE, redis.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the baseline server exited (${String(code)})`)));
    child.stdout?.setEncoding('utf8').on('data', (line: string) => {
      const m = /listening (\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { port, pid: child.pid, stop: async () => { child.kill('SIGTERM'); await exited; } };
}

interface Load {
  rate: number;
  p50: number;
  p99: number;
  serverCpuUs: number;
  redisCpuUs: number;
  bytesPerRecord: number;
  /** Redis commands per PUT, by command (INFO itself left out). */
  callsPerPut: Record<string, number>;
}

async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

/** Calls per command so far (INFO commandstats). */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of (await client.info('commandstats')).matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) out.set(m[1]!, Number(m[2]));
  return out;
}

async function redisCpuMs(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  return (user + sys) * 1000;
}

/** N PUTs over CONNECTIONS keep-alive connections; every reply must be 200. */
async function load(server: Server, client: Redis, records: number): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies = new Float64Array(records);
  const put = (i: number): Promise<void> => new Promise((resolve, reject) => {
    const content = b7Body(i);
    const t0 = performance.now();
    const req = http.request({
      agent, host: '127.0.0.1', port: server.port, method: 'PUT', path: `/v1/items/${encodeURIComponent(b7Key(i))}`,
      headers: { 'Content-Type': 'application/json', 'Content-Length': content.length },
    }, (res) => {
      res.resume();
      res.once('end', () => {
        latencies[i] = performance.now() - t0;
        if (res.statusCode === 200) resolve();
        else reject(new Error(`PUT ${b7Key(i)}: HTTP ${String(res.statusCode)}`));
      });
    });
    req.once('error', reject);
    req.end(content);
  });
  const memory0 = await usedMemory(client);
  const cpu0 = processCpuMs(server.pid);
  const redisCpu0 = await redisCpuMs(client);
  const calls0 = await commandCalls(client);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next < records) await put(next++);
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = processCpuMs(server.pid) - cpu0;
  const redisCpu = (await redisCpuMs(client)) - redisCpu0;
  const callsPerPut: Record<string, number> = {};
  for (const [name, calls] of await commandCalls(client)) {
    const delta = calls - (calls0.get(name) ?? 0) - (name === 'info' ? 3 : 0);
    if (delta > 0) callsPerPut[name] = Number((delta / records).toFixed(3));
  }
  agent.destroy();
  const memory = (await usedMemory(client)) - memory0;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    rate: records / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99),
    serverCpuUs: (cpu * 1000) / records, redisCpuUs: (redisCpu * 1000) / records, bytesPerRecord: memory / records, callsPerPut,
  };
}

async function measure(kind: 'daemon' | 'baseline', records: number, profile: boolean): Promise<Load> {
  const redis = await startRedis();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-bench-b6-'));
  const client = new Redis(redis.url);
  let server: Server | undefined;
  try {
    server = kind === 'daemon' ? await startDaemon(redis, tmp, profile) : await startBaseline(redis, profile);
    return await load(server, client, records);
  } finally {
    await server?.stop();
    client.disconnect();
    await redis.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function runB6(o: RunOptions): Promise<Section[]> {
  // The daemon runs from the built CLI, as users run it.
  execFileSync('npm', ['run', 'build'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'ignore', 'inherit'] });
  const records = o.quick ? 20_000 : 200_000;
  const runs = o.runs ?? (o.quick ? 1 : 3);
  const daemon: Load[] = [];
  const baseline: Load[] = [];
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? (['daemon', 'baseline'] as const) : (['baseline', 'daemon'] as const);
    for (const kind of order) (kind === 'daemon' ? daemon : baseline).push(await measure(kind, records, o.profile));
    const d = daemon[r]!;
    const b = baseline[r]!;
    o.log(`B6 run ${r + 1}/${runs}: daemon ${fmt(d.rate)} PUT/s (p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms, ` +
      `${d.serverCpuUs.toFixed(1)} µs daemon + ${d.redisCpuUs.toFixed(1)} µs Redis CPU per PUT, ${d.bytesPerRecord.toFixed(0)} B/record, ` +
      `Redis calls per PUT ${JSON.stringify(d.callsPerPut)}); ` +
      `baseline ${fmt(b.rate)} PUT/s (p50 ${b.p50.toFixed(1)} ms, p99 ${b.p99.toFixed(1)} ms, ${b.serverCpuUs.toFixed(1)} + ${b.redisCpuUs.toFixed(1)} µs, ${b.bytesPerRecord.toFixed(0)} B/record)`);
  }
  const of = (loads: Load[], f: (l: Load) => number): number[] => loads.map(f);
  const baselineRate = median(of(baseline, (l) => l.rate));
  const b6: Section = {
    id: 'B6',
    title: `B6 HTTP PUT, ${CONNECTIONS} keep-alive connections, ${fmt(records)} records of ~190-byte JSON`,
    rows: [
      row('daemon PUT/s', 'PUT/s', of(daemon, (l) => l.rate), {
        baseline: { name: 'node:http + SET', value: baselineRate },
        target: { op: '>=', value: 0.8 * baselineRate },
      }),
      row('daemon PUT latency p50', 'ms', of(daemon, (l) => l.p50), { baseline: { name: 'node:http + SET', value: median(of(baseline, (l) => l.p50)) } }),
      row('daemon PUT latency p99', 'ms', of(daemon, (l) => l.p99), { baseline: { name: 'node:http + SET', value: median(of(baseline, (l) => l.p99)) } }),
      row('daemon CPU per PUT', 'µs', of(daemon, (l) => l.serverCpuUs), { baseline: { name: 'node:http + SET', value: median(of(baseline, (l) => l.serverCpuUs)) } }),
      row('local Redis CPU per PUT', 'µs', of(daemon, (l) => l.redisCpuUs), { baseline: { name: 'SET', value: median(of(baseline, (l) => l.redisCpuUs)) } }),
    ],
    notes: [
      'Each subject in its own process on bare Node against its own fresh redis-server; the load generator is the bench process (same for both).',
      'Target: at least 0.8 of the node:http + SET server in the same run (goal 0.9).',
    ],
    details: { daemon, baseline },
  };
  const overhead = daemon.map((d, i) => d.bytesPerRecord - baseline[i]!.bytesPerRecord);
  const b7: Section = {
    id: 'B7',
    title: `B7 Redis memory per record, ${fmt(records)} records (used_memory after − before, / records)`,
    rows: [
      row('store bytes per record', 'B', of(daemon, (l) => l.bytesPerRecord), { baseline: { name: 'plain SET', value: median(of(baseline, (l) => l.bytesPerRecord)) } }),
      row('overhead per record over plain SET', 'B', overhead, { target: { op: '<=', value: 200 } }),
    ],
    notes: ['Measured in the same runs as B6: the same keys and values, written once each; `store.cdc_maxlen: 1000`.'],
  };
  return [b6, b7];
}
