/**
 * One ReplicationEngine in its own process (forked by bench/engine-host.ts), so that the
 * process's peak RSS is the engine's own (B5), not the bench's, the preloader's or the
 * other nodes'. Driven over IPC (bench/engine-protocol.ts).
 *
 * - B1 (`until`): the engine gets a cursor store whose `set` notes the moment the peer's
 *   cursor is persisted at or past the stream head: the tailer persists a cursor only after
 *   the batch ending at it is applied, so that moment is "everything applied".
 * - B2 (`recordLag`): the store's applyChanges is wrapped; for every change reported
 *   `applied`, `Date.now() - updatedAt` is recorded (updatedAt = the origin's wall clock when
 *   the application called put(); every process reads the same system clock).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../src/config/parse.js';
import { compareStreamIds } from '../src/cdc/stream-id.js';
import type { CursorStore } from '../src/cursor/cursor-store.js';
import { SqliteCursorStore } from '../src/cursor/sqlite-cursor-store.js';
import { ReplicationEngine } from '../src/engine/replication-engine.js';
import type { Change } from '../src/model/change.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { ApplyOutcome } from '../src/store/local-store.js';
import type { ChildCounters, ChildMessage, ChildStart, ParentMessage } from './engine-protocol.js';

const send = (m: ChildMessage): void => {
  process.send?.(m);
};

/** Sends and resolves once the message is written to the IPC channel (before a disconnect:
 * a large message, like B2's lag samples, is otherwise cut off by it). */
const sendFlushed = (m: ChildMessage): Promise<void> => new Promise((resolve, reject) => {
  if (!process.send) return resolve();
  process.send(m, undefined, undefined, (err: Error | null) => (err ? reject(err) : resolve()));
});

let engine: ReplicationEngine | null = null;
let store: RedisStore | null = null;
let cursors: CursorStore | null = null;
let sampler: NodeJS.Timeout | null = null;
let sampledPeak = 0;
const lags: number[] = [];
let lastApplyEnd: number | null = null;
let inFlightApplies = 0;
let applyGapMs = 0;
let applyBusyMs = 0;
let applyCalls = 0;

function sample(): void {
  // memoryUsage.rss() is a cheap syscall; full memoryUsage() walks the heap spaces.
  sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
}

/**
 * The process's own peak RSS, KiB: VmHWM of /proc/self/status, the kernel's high-water mark of
 * this address space (exact, not sampled). Not getrusage's ru_maxrss: on Linux that survives
 * execve, so a child forked (fork + exec) from a bench process holding 200 MB reported 200 MB
 * whatever it used itself. Where /proc is missing, the 50 ms sampling's peak.
 */
function peakRssKb(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: fall back to sampling
  }
  return Math.round(sampledPeak / 1024);
}

function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const b = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = isObj(b) && isObj(v) ? { ...b, ...v } : v;
  }
  return out;
}

async function start(msg: ChildStart): Promise<void> {
  const config = parseConfig({
    local_node_id: msg.nodeId,
    local: { redis_url: msg.localUrl, redis_prefix: msg.localPrefix },
    settings: merge({ cold_path: { enabled: false } }, msg.settings),
    store: msg.store ?? {},
    http: { enabled: false },
    peers: msg.peers.map((p) => ({ node_id: p.nodeId, redis_url: p.url, redis_prefix: p.prefix })),
    cursor: { sqlite_path: msg.cursorPath },
  });
  store = await RedisStore.connect({
    url: msg.localUrl, prefix: msg.localPrefix, nodeId: msg.nodeId, cdcMaxlen: config.store.cdc_maxlen,
    emitReplicated: config.store.emit_replicated,
  });
  {
    // Wrapped for two measurements: apply lag (B2) and how long the hot path leaves the local
    // Redis without an apply between two batches (a diagnostic of the pipeline, both benches).
    const s = store;
    const apply = s.applyChanges.bind(s);
    s.applyChanges = async (changes: readonly Change[]): Promise<ApplyOutcome[]> => {
      const start = performance.now();
      if (lastApplyEnd !== null && inFlightApplies === 0) applyGapMs += start - lastApplyEnd;
      inFlightApplies++;
      try {
        const outcomes = await apply(changes);
        applyBusyMs += performance.now() - start;
        if (msg.recordLag) {
          const now = Date.now();
          outcomes.forEach((o, i) => {
            const c = changes[i]!;
            if (o === 'applied' && c.key.startsWith(msg.lagKeyPrefix ?? '')) lags.push(now - c.updatedAt);
          });
        }
        return outcomes;
      } finally {
        inFlightApplies--;
        lastApplyEnd = performance.now();
        applyCalls++;
      }
    };
  }
  mkdirSync(path.dirname(msg.cursorPath), { recursive: true });
  const sqlite = SqliteCursorStore.open({ path: msg.cursorPath, walMode: true });
  let t0 = 0;
  let reached = false;
  cursors = {
    get: (p) => sqlite.get(p),
    set: (p, id) => {
      sqlite.set(p, id);
      if (!reached && msg.until && p === msg.until.peerId && compareStreamIds(id, msg.until.head) >= 0) {
        reached = true;
        send({ type: 'reached', elapsedMs: performance.now() - t0 });
      }
    },
    delete: (p) => sqlite.delete(p),
    all: () => sqlite.all(),
    close: () => sqlite.close(),
  };
  engine = new ReplicationEngine(config, { store, cursors });
  // Sampled only where VmHWM is missing (see peakRssKb): the timer is work the engine's CPU figure counts.
  if (!existsSync('/proc/self/status')) {
    sample();
    sampler = setInterval(sample, 50);
  }
  t0 = performance.now();
  await engine.start();
  send({ type: 'started' });
}

async function metricSum(e: ReplicationEngine, name: string, filter?: (labels: Record<string, unknown>) => boolean): Promise<number> {
  const metric = e.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) if (!filter || filter(v.labels as Record<string, unknown>)) sum += v.value;
  return sum;
}

async function stop(): Promise<void> {
  let counters: ChildCounters = { eventsRead: 0, eventsApplied: 0, deduped: 0, rejected: 0, batches: 0 };
  if (engine) {
    await engine.shutdown();
    counters = {
      eventsRead: await metricSum(engine, 'replication_cdc_events_read_total'),
      eventsApplied: await metricSum(engine, 'replication_cdc_events_applied_total'),
      deduped: await metricSum(engine, 'replication_cdc_events_deduped_total'),
      rejected: await metricSum(engine, 'replication_cdc_events_rejected_total'),
      batches: await metricSum(engine, 'replication_batch_flush_total'),
    };
  }
  if (sampler) clearInterval(sampler);
  sample();
  cursors?.close();
  await store?.close();
  await sendFlushed({
    type: 'stopped',
    maxRssKb: peakRssKb(),
    sampledPeakRssKb: Math.round(sampledPeak / 1024),
    ...(lags.length > 0 ? { lagsMs: lags } : {}),
    counters,
    applies: { calls: applyCalls, busyMs: applyBusyMs, gapMs: applyGapMs },
    cpuMs: (() => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; })(),
  });
  process.disconnect?.();
}

process.on('message', (raw: unknown) => {
  const msg = raw as ParentMessage;
  const run = msg.type === 'start' ? start(msg) : stop();
  run.catch((err: unknown) => {
    send({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  });
});

send({ type: 'ready', rssKb: Math.round(process.memoryUsage().rss / 1024) });
