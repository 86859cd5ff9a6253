/**
 * B1 — hot-path throughput. One peer stream preloaded with N PUT events in the exact CDC
 * format (bench/cdc-events.ts: ~200-byte JSON, 10% rewrites of earlier keys); one
 * ReplicationEngine (its own process: bench/engine-child.ts) tails it from a fresh cursor into
 * an empty local redis-server. Figure: N ÷ (time from `engine.start()` to the cursor being
 * persisted at the stream head), i.e. events applied per second, all stages included (XREAD,
 * decode, hash check, collapse, Lua apply with LWW + record + tree + re-emit, cursor write).
 *
 * Baselines in the same run, on the same machine:
 * - "XREAD → SET": a plain Node loop with ioredis, XREAD COUNT 1000 of the same stream, then
 *   one pipelined SET key → data per entry (no decoding, no checks, no tree, no re-emit).
 * - "REPLICAOF full sync": a redis-server holding the same writes as plain SETs; a fresh
 *   replica runs REPLICAOF; time from the command to the replica's offset equal to the
 *   primary's and its key count equal (diskless sync, repl-diskless-sync-delay 0). This is
 *   what Redis does to bring a fresh replica up to date: a snapshot, not a replay.
 * - "REPLICAOF live": a replica attached to an empty primary; the same writes sent to the
 *   primary as pipelined SETs (2,000 per pipeline, 8 in flight); time from the first write to
 *   the replica's offset reaching the primary's. Bounded by how fast the writes arrive.
 */
import { Redis } from 'ioredis';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareStreamIds } from '../src/cdc/stream-id.js';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { preloadStream, workload, type PreloadResult } from './cdc-events.js';
import { daemonNodeFlags, EngineHost } from './engine-host.js';
import { row, type RunOptions, type Section } from './report.js';
import { fmt, scriptTime } from './support.js';

const PEER = 'bench-a';
const LOCAL = 'bench-b';
const PEER_PREFIX = 'a:';
const LOCAL_PREFIX = 'b:';
const STREAM = `${PEER_PREFIX}cdc`;
export const B1_TARGET = 60_000;

export interface B1Result {
  section: Section;
  /** Engine processes' peak RSS (KiB) per run, for B5. */
  peakRssKb: number[];
  baselineRssKb: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function infoFields(redis: Redis, section: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const line of (await redis.info(section)).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** CPU time (user + system) of a process so far, ms (Linux /proc; 10 ms resolution). */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * (1000 / 100);
  } catch {
    return NaN;
  }
}

async function engineRun(peer: RedisServer, load: PreloadResult, o: RunOptions, label: string, settings: Record<string, unknown>) {
  const local = await startRedis();
  const peerCpu0 = processCpuMs(peer.pid);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-bench-b1-'));
  const host = await EngineHost.spawn({ profile: o.profile, label });
  try {
    const reached = host.next('reached', 300_000);
    await host.start({
      nodeId: LOCAL, localUrl: local.url, localPrefix: LOCAL_PREFIX,
      peers: [{ nodeId: PEER, url: peer.url, prefix: PEER_PREFIX }],
      settings, cursorPath: path.join(tmp, 'cursors.db'), until: { peerId: PEER, head: load.head },
    });
    const { elapsedMs } = await reached;
    const cpu = { local: processCpuMs(local.pid), peer: processCpuMs(peer.pid) - peerCpu0 };
    const stopped = await host.stop();
    const client = new Redis(local.url);
    const keys = Number((await client.hget(`${LOCAL_PREFIX}m:meta`, 'live')) ?? 0);
    const redisUs = await scriptTime(client);
    client.disconnect();
    if (keys !== load.distinctKeys) throw new Error(`B1: the local store has ${keys} keys, expected ${load.distinctKeys}`);
    if (stopped.counters.eventsRead !== load.events) throw new Error(`B1: the engine read ${stopped.counters.eventsRead} events, expected ${load.events}`);
    return { rate: load.events / (elapsedMs / 1000), elapsedMs, redisUsPerEvent: redisUs / load.events, maxRssKb: stopped.maxRssKb, baselineRssKb: host.baselineRssKb, counters: stopped.counters, applies: stopped.applies,
      cpuUsPerEvent: { engine: (stopped.cpuMs * 1000) / load.events, localRedis: (cpu.local * 1000) / load.events, peerRedis: (cpu.peer * 1000) / load.events } };
  } finally {
    await host.kill();
    await local.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}


/** Reads with the stream's own field layout: `key` and `data` values by name. */
function keyAndData(fields: Buffer[]): [Buffer, Buffer] | null {
  let key: Buffer | undefined;
  let data: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString('latin1');
    if (name === 'key') key = fields[i + 1];
    else if (name === 'data') data = fields[i + 1];
  }
  return key && data ? [key, data] : null;
}

async function xreadSetRun(peer: RedisServer, load: PreloadResult): Promise<number> {
  const local = await startRedis();
  const src = new Redis(peer.url);
  const dst = new Redis(local.url);
  try {
    let cursor = '0-0';
    const t0 = performance.now();
    while (compareStreamIds(cursor, load.head) < 0) {
      const reply = (await src.xreadBuffer('COUNT', 1000, 'STREAMS', STREAM, cursor)) as [Buffer, [Buffer, Buffer[]][]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) break;
      const p = dst.pipeline();
      for (const [, fields] of entries) {
        const kd = keyAndData(fields);
        if (kd) p.set(kd[0], kd[1]);
      }
      await p.exec();
      cursor = entries[entries.length - 1]![0].toString();
    }
    const ms = performance.now() - t0;
    const keys = await dst.dbsize();
    if (keys !== load.distinctKeys) throw new Error(`B1 XREAD→SET: ${keys} keys, expected ${load.distinctKeys}`);
    return load.events / (ms / 1000);
  } finally {
    src.disconnect();
    dst.disconnect();
    await local.stop();
  }
}

/** Polls the replica until its offset equals the primary's (and, when given, its key count). */
async function waitCaughtUp(replica: Redis, primaryOffset: number, keys?: number): Promise<void> {
  for (;;) {
    const info = await infoFields(replica, 'replication');
    if (info.get('master_link_status') === 'up' && info.get('master_sync_in_progress') === '0' &&
      Number(info.get('slave_repl_offset')) >= primaryOffset) {
      if (keys === undefined || (await replica.dbsize()) === keys) return;
    }
    await sleep(2);
  }
}

async function fullSyncRun(primary: RedisServer, load: PreloadResult): Promise<number> {
  const replicaServer = await startRedis();
  const replica = new Redis(replicaServer.url);
  const p = new Redis(primary.url);
  try {
    const offset = Number((await infoFields(p, 'replication')).get('master_repl_offset'));
    const t0 = performance.now();
    await replica.replicaof(primary.host, primary.port);
    await waitCaughtUp(replica, offset, load.distinctKeys);
    return load.events / ((performance.now() - t0) / 1000);
  } finally {
    replica.disconnect();
    p.disconnect();
    await replicaServer.stop();
  }
}

async function liveRun(writes: readonly (readonly [string, Buffer])[], load: PreloadResult): Promise<number> {
  const [primaryServer, replicaServer] = await Promise.all([startRedis(), startRedis()]);
  const primary = new Redis(primaryServer.url);
  const replica = new Redis(replicaServer.url);
  try {
    await primary.config('SET', 'repl-diskless-sync-delay', '0');
    await replica.replicaof(primaryServer.host, primaryServer.port);
    await waitCaughtUp(replica, 0);
    const t0 = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < writes.length; i += 2000) {
      const pipe = primary.pipeline();
      for (const [k, v] of writes.slice(i, i + 2000)) pipe.set(k, v);
      inFlight.push(pipe.exec());
      if (inFlight.length >= 8) await Promise.all(inFlight.splice(0));
    }
    await Promise.all(inFlight);
    const offset = Number((await infoFields(primary, 'replication')).get('master_repl_offset'));
    await waitCaughtUp(replica, offset, load.distinctKeys);
    return writes.length / ((performance.now() - t0) / 1000);
  } finally {
    primary.disconnect();
    replica.disconnect();
    await Promise.all([primaryServer.stop(), replicaServer.stop()]);
  }
}

export async function runB1(o: RunOptions, engineSettings: Record<string, unknown> = {}): Promise<B1Result> {
  const events = o.quick ? 100_000 : 500_000;
  const runs = o.runs ?? (o.quick ? 2 : 3);
  const [peer, primary] = await Promise.all([startRedis(), startRedis()]);
  const peerClient = new Redis(peer.url);
  const primaryClient = new Redis(primary.url);
  try {
    const t = performance.now();
    const spec = { events, origin: PEER };
    const load = await preloadStream(peerClient, STREAM, spec, async (writes) => {
      const p = primaryClient.pipeline();
      for (const w of writes) p.set(w.key, w.content);
      await p.exec();
    });
    await primaryClient.config('SET', 'repl-diskless-sync-delay', '0');
    const writes: [string, Buffer][] = [];
    for (const chunk of workload(spec)) for (const w of chunk) writes.push([w.key, w.content]);
    o.log(`B1: preloaded ${fmt(events)} events (${fmt(load.distinctKeys)} distinct keys, ${fmt(load.wireBytes / events)} wire bytes/event) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const engine: number[] = [];
    const xreadSet: number[] = [];
    const full: number[] = [];
    const live: number[] = [];
    const rss: number[] = [];
    const baseRss: number[] = [];
    const redisUs: number[] = [];
    let counters: unknown = null;
    for (let r = 0; r < runs; r++) {
      const e = await engineRun(peer, load, o, `b1-run${r}`, engineSettings);
      engine.push(e.rate);
      rss.push(e.maxRssKb);
      baseRss.push(e.baselineRssKb);
      counters = e.counters;
      if (!o.engineOnly) {
        xreadSet.push(await xreadSetRun(peer, load));
        full.push(await fullSyncRun(primary, load));
        live.push(await liveRun(writes, load));
      }
      redisUs.push(e.redisUsPerEvent);
      o.log(`B1 run ${r + 1}/${runs}: engine ${fmt(e.rate)} ev/s (${(e.elapsedMs / 1000).toFixed(2)} s, ${e.applies.calls} applies, ` +
        `${fmt(e.applies.busyMs)} ms in them, ${fmt(e.applies.gapMs)} ms between them; CPU µs/event: engine ${e.cpuUsPerEvent.engine.toFixed(1)}, ` +
        `local Redis ${e.cpuUsPerEvent.localRedis.toFixed(1)}, peer Redis ${e.cpuUsPerEvent.peerRedis.toFixed(1)}; local Redis ${e.redisUsPerEvent.toFixed(1)} µs/event in scripts, peak RSS ${fmt(e.maxRssKb / 1024)} MiB); ` +
        (o.engineOnly ? '' : `XREAD→SET ${fmt(xreadSet[r]!)}; REPLICAOF full sync ${fmt(full[r]!)}, live ${fmt(live[r]!)}`));
    }
    const base = (name: string, s: number[]) => row(name, 'events/s', s.length ? s : [NaN]);
    const xs = base('XREAD → SET loop', xreadSet);
    const fs = base('REPLICAOF full sync', full);
    const ls = base('REPLICAOF live', live);
    const section: Section = {
      id: 'B1',
      title: `hot-path throughput (${fmt(events)} PUT events, one peer)`,
      rows: [
        row('engine, events applied/s', 'events/s', engine, {
          target: { op: '>=', value: B1_TARGET },
          baseline: { name: 'REPLICAOF full sync', value: fs.value },
          baselines: [{ name: 'REPLICAOF live', value: ls.value }, { name: 'XREAD → SET', value: xs.value }],
        }),
        row('local Redis time in apply scripts per event', 'µs', redisUs, { note: 'INFO commandstats (EVALSHA + EVAL) ÷ events: the Lua apply\'s share of the time' }),
        xs, fs, ls,
      ],
      notes: [
        `${fmt(events)} events, ${fmt(load.distinctKeys)} distinct keys, ~${fmt(load.wireBytes / events)} bytes of field values per entry; median of ${runs} runs, each engine run a fresh process, empty local redis-server and fresh cursor.`,
        `Engine: default settings, cold path off, node ${daemonNodeFlags().join(' ')} (as the daemon's launcher); time from engine.start() to the cursor persisted at the stream head.`,
        'XREAD → SET: COUNT 1000, one pipeline per read, no read-ahead, no decoding.',
        'REPLICAOF full sync: replica of a redis-server holding the same writes as plain SETs, until offset and key count match. REPLICAOF live: the writes sent to a primary with a replica attached, until the replica\'s offset matches.',
      ],
      details: { events, distinctKeys: load.distinctKeys, wireBytesPerEvent: load.wireBytes / events, engine, xreadSet, full, live, peakRssKb: rss, counters },
    };
    return { section, peakRssKb: rss, baselineRssKb: baseRss };
  } finally {
    peerClient.disconnect();
    primaryClient.disconnect();
    await Promise.all([peer.stop(), primary.stop()]);
  }
}
