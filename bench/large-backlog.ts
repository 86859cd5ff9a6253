/**
 * Peak RSS of the daemon while it drains a backlog of large records from a peer (issue 14:
 * 40 records of ~15 MiB once made one apply call larger than Redis accepts and crash-looped the
 * node). Two redis-servers with their default limits; the peer's stream is filled first (from
 * this process), then `replication-engine run` (dist/, built by `npm run build`) is started as
 * a child with the default configuration and watched until every record is on the local store.
 * The figure is the child's VmHWM (/proc/<pid>/status: the kernel's exact high-water mark).
 *
 *   npx tsx bench/large-backlog.ts [--records 40] [--mib 15] [--zstd] [--kill-after N]
 *
 * --zstd: entries are zstd frames of zeros (a few hundred bytes each) inflating to --mib MiB.
 * --kill-after N: SIGKILL the daemon once N records arrived, start it again, report both peaks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { encodeCdcEntry } from '../src/cdc/codec.js';
import { sha256Hex } from '../src/model/content-hash.js';
import { RedisLauncher, findOnPath } from '../src/demo/redis-launcher.js';
import { formatHlc } from '../src/model/hlc.js';
import { StoreKeys } from '../src/store/keys.js';
import { RedisStore } from '../src/store/redis-store.js';
import { streamedZeroFrame } from '../test/support/zstd-frames.js';

const CLI = fileURLToPath(new URL('../bin/replication-engine.js', import.meta.url));
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const records = arg('records', 40);
const mib = arg('mib', 15);
const killAfter = arg('kill-after', 0);
const zstd = process.argv.includes('--zstd');

function vm(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-backlog-'));
  const launcher = new RedisLauncher(findOnPath('redis-server') ?? 'redis-server');
  const [local, peer] = await Promise.all([launcher.start('local', path.join(tmp, 'local')), launcher.start('peer', path.join(tmp, 'peer'))]);
  const children: ChildProcess[] = [];
  try {
    const peerStore = await RedisStore.connect({ url: peer.url, prefix: 'peer:', nodeId: 'peer-1' });
    const size = mib * 1024 * 1024;
    if (zstd) {
      const frame = streamedZeroFrame(size, { pledge: true });
      const content = Buffer.alloc(size);
      const hash = sha256Hex(content);
      for (let i = 0; i < records; i++) {
        const ms = Date.now();
        const fields = encodeCdcEntry({ op: 'PUT', key: `big/${i}`, content, hash, contentType: 'binary', version: 1, updatedAt: ms, hlc: formatHlc(ms, i), origin: 'peer-1', wireData: frame });
        await peerStore.client.xadd('peer:cdc', '*', ...fields);
      }
      console.log(`peer stream: ${records} zstd frames of ${frame.length} bytes, each inflating to ${mib} MiB`);
    } else {
      for (let i = 0; i < records; i++) await peerStore.put(`big/${i}`, randomBytes(size));
      console.log(`peer stream: ${records} incompressible records of ${mib} MiB`);
    }
    await peerStore.close();

    const configFile = path.join(tmp, 'node.yaml');
    writeFileSync(configFile, JSON.stringify({
      replication: {
        local_node_id: 'local-1',
        local: { redis_url: local.url, redis_prefix: 'local:' },
        http: { enabled: false },
        settings: { cold_path: { enabled: false } },
        peers: [{ node_id: 'peer-1', redis_url: peer.url, redis_prefix: 'peer:' }],
        cursor: { sqlite_path: path.join(tmp, 'cursors.db') },
      },
    }));
    const localRedis = new Redis(local.url);
    const localMeta = new StoreKeys('local:').meta;
    const log = openSync(path.join(tmp, 'daemon.log'), 'a');
    const run = (until: number): Promise<{ peakKb: number; ms: number; killed: boolean }> => {
      const child = spawn(CLI, ['run', '--config', configFile], { stdio: ['ignore', log, log] });
      children.push(child);
      const t0 = Date.now();
      return new Promise((resolve, reject) => {
        let exited = false;
        let done = false;
        child.once('exit', (code, signal) => {
          exited = true;
          if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM') reject(new Error(`daemon exited: code ${code}, signal ${signal} (see ${tmp}/daemon.log)`));
        });
        const poll = setInterval(() => {
          void (async () => {
            if (exited || done) return;
            let peakKb = 0;
            try {
              peakKb = vm(child.pid!, 'VmHWM');
            } catch {
              return;
            }
            const n = Number((await localRedis.hget(localMeta, 'live')) ?? 0);
            if (n >= until && !done) {
              done = true;
              clearInterval(poll);
              const killed = until < records;
              child.kill(killed ? 'SIGKILL' : 'SIGTERM');
              await new Promise((r) => (exited ? r(null) : child.once('exit', r)));
              resolve({ peakKb, ms: Date.now() - t0, killed });
            }
          })().catch(reject);
        }, 50);
      });
    };
    if (killAfter > 0) {
      const first = await run(killAfter);
      console.log(`first run: killed (SIGKILL) after ${killAfter} records, ${first.ms} ms, peak RSS ${(first.peakKb / 1024).toFixed(0)} MiB`);
    }
    const r = await run(records);
    console.log(`${killAfter > 0 ? 'restarted run' : 'run'}: all ${records} records on the local store in ${r.ms} ms; daemon peak RSS (VmHWM) ${(r.peakKb / 1024).toFixed(0)} MiB`);
    localRedis.disconnect();
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.allSettled([local.stop(), peer.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
