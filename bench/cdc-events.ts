/**
 * The B1 workload: N PUT events in the exact CDC wire format (encodeCdcEntry: zstd when it
 * pays, SHA-256, meta JSON with the stamp), preloaded into a peer's stream with pipelined
 * XADD. Deterministic (xorshift32), so every run and every baseline sees the same writes.
 *
 * - Content: ~200-byte JSON records (fixed fields plus words from a small vocabulary, so zstd
 *   compresses them roughly 2:1, as it would real records).
 * - Keys: 90% of events write a new key, 10% rewrite a key written earlier (uniformly chosen).
 * - Stamps: hlc = t0 + i ms (strictly rising, so every rewrite wins), origin = the peer.
 */
import type { Redis } from 'ioredis';
import { encodeCdcEntry } from '../src/cdc/codec.js';
import { sha256Hex } from '../src/model/content-hash.js';
import { formatHlc } from '../src/model/hlc.js';
import type { PutChange } from '../src/model/change.js';

export interface WorkloadOptions {
  events: number;
  /** Share of events that rewrite an earlier key. */
  repeatRatio?: number;
  payloadBytes?: number;
  origin: string;
  /** Milliseconds of the first stamp (default: a fixed past time, so every run writes identical stamps). */
  t0?: number;
  seed?: number;
}

export interface WorkloadWrite {
  key: string;
  content: Buffer;
  change: PutChange;
}

const WORDS = ['admitted', 'ward', 'stable', 'review', 'pending', 'discharge', 'oncology', 'cardio', 'renal', 'notes',
  'observation', 'allergy', 'penicillin', 'none', 'follow-up', 'clinic', 'bloods', 'normal', 'elevated', 'scan'];

export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

export function recordContent(id: number, version: number, bytes: number, rand: () => number): Buffer {
  const head = `{"id":${id},"version":${version},"name":"patient ${id}","ward":${id % 40},"notes":"`;
  let notes = '';
  while (head.length + notes.length + 2 < bytes) notes += `${WORDS[Math.floor(rand() * WORDS.length)]} `;
  notes = notes.slice(0, bytes - head.length - 2);
  return Buffer.from(`${head}${notes}"}`);
}

/** The workload in chunks (so 500k events never sit in memory at once). */
export function* workload(o: WorkloadOptions, chunk = 2000): Generator<WorkloadWrite[]> {
  const rand = rng(o.seed ?? 42);
  const repeat = o.repeatRatio ?? 0.1;
  const bytes = o.payloadBytes ?? 200;
  const t0 = o.t0 ?? 1_700_000_000_000;
  const versions = new Uint32Array(o.events);
  let distinct = 0;
  let out: WorkloadWrite[] = [];
  for (let i = 0; i < o.events; i++) {
    const id = distinct > 0 && rand() < repeat ? Math.floor(rand() * distinct) : distinct++;
    const version = ++versions[id]!;
    const key = `patient/${id}`;
    const content = recordContent(id, version, bytes, rand);
    const change: PutChange = {
      op: 'PUT', key, content, hash: sha256Hex(content), contentType: 'json', version,
      updatedAt: t0 + i, hlc: formatHlc(t0 + i, 0), origin: o.origin,
    };
    out.push({ key, content, change });
    if (out.length === chunk) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

export interface PreloadResult {
  /** Id of the last entry added: the engine has applied everything once its cursor is here. */
  head: string;
  events: number;
  distinctKeys: number;
  /** Bytes of the entries' field values (what XREAD carries, roughly). */
  wireBytes: number;
}

/**
 * XADDs the workload to `streamKey` (no MAXLEN: the stream holds every event), a pipeline per
 * chunk, a few chunks in flight. `alsoEach` sees every chunk too (e.g. to SET the same writes
 * into a Redis for the REPLICAOF baseline).
 */
export async function preloadStream(
  redis: Redis, streamKey: string, o: WorkloadOptions, alsoEach?: (writes: WorkloadWrite[]) => Promise<void>,
): Promise<PreloadResult> {
  let head = '0-0';
  let wireBytes = 0;
  const keys = new Set<string>();
  const inFlight: Promise<void>[] = [];
  for (const writes of workload(o)) {
    const p = redis.pipeline();
    for (const w of writes) {
      const fields = encodeCdcEntry(w.change);
      for (let i = 1; i < fields.length; i += 2) wireBytes += fields[i]!.length;
      p.xadd(streamKey, '*', ...fields);
      keys.add(w.key);
    }
    inFlight.push((async () => {
      const replies = (await p.exec()) ?? [];
      for (const [err] of replies) if (err) throw err;
      const last = replies[replies.length - 1]?.[1];
      if (typeof last === 'string') head = last;
    })());
    if (alsoEach) inFlight.push(alsoEach(writes));
    if (inFlight.length >= 8) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  // Pipelines on one connection complete in order, but read the head from Redis to be sure.
  const info = (await redis.xinfo('STREAM', streamKey)) as unknown[];
  head = String(info[info.indexOf('last-generated-id') + 1] ?? head);
  return { head, events: o.events, distinctKeys: keys.size, wireBytes };
}
