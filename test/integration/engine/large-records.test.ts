// Backlogs of large records (issue 14, defect 1). Everything is scaled down with the Redis that
// applies them: `proto-max-bulk-len 1mb` (the smallest Redis allows) stands for the default 512 MB,
// records of ~240 KiB for records of ~15 MiB. A batch, an apply call or a repair round bounded by
// count alone sends Redis one argument of ~10 MB, which it refuses by dropping the connection,
// again on every retry: the records never arrive and the cursor never moves.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCdcEntry } from '../../../src/cdc/codec.js';
import { sha256Hex } from '../../../src/model/content-hash.js';
import { repairWithPeer } from '../../../src/cold-path/repair.js';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import { formatHlc } from '../../../src/model/hlc.js';
import type { Change, PutChange } from '../../../src/model/change.js';
import { RedisStore } from '../../../src/store/redis-store.js';
import { RedisStoreReader } from '../../../src/store/store-reader.js';
import { RedisPeerConnection } from '../../../src/peer/redis-peer-connection.js';
import { ReplyTooLargeError } from '../../../src/peer/reply-guard.js';
import { DaemonProcess } from '../../support/daemon-process.js';
import { Mesh, metricValue } from '../../support/mesh.js';
import { waitFor } from '../../support/wait.js';
import { streamedZeroFrame } from '../../support/zstd-frames.js';
import { putChange } from '../../support/changes.js';
import { useRedisServers } from '../../support/use-redis.js';

const KiB = 1024;
const MAX_PAYLOAD = 256 * KiB;
const RECORD = 240 * KiB;
const RECORDS = 40;
const BOUND = 512 * KiB;
const REDIS = { config: { 'proto-max-bulk-len': '1mb' } };
const SETTINGS = { hot_path: { max_read_bytes: BOUND, max_batch_bytes: BOUND } };
const STORE = { max_payload_bytes: MAX_PAYLOAD };

/** node-0 tails node-1 only; nothing runs until the test starts node-0's engine. */
function startMesh(): Promise<Mesh> {
  return Mesh.start({
    nodes: 2, redis: REDIS, settings: SETTINGS, store: STORE, start: false, link: (from) => from === 0,
    storeOptions: { maxPayloadBytes: MAX_PAYLOAD, maxApplyBytes: BOUND },
  });
}

async function allArrived(mesh: Mesh, keys: readonly string[], what: string): Promise<void> {
  await waitFor(async () => (await mesh.node(0).store.keyCount()) === keys.length, { what, timeoutMs: 30_000 });
  for (const key of keys) {
    const [a, b] = await Promise.all([mesh.node(0).store.get(key), mesh.node(1).store.get(key)]);
    expect(a?.hash, key).toBe(b?.hash);
  }
}

describe('hot path: a backlog of large records', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh();
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('drains 40 incompressible records near the payload limit in byte-bounded applies', async () => {
    const keys: string[] = [];
    for (let i = 0; i < RECORDS; i++) {
      keys.push(`big/${i}`);
      await mesh.node(1).store.put(`big/${i}`, randomBytes(RECORD));
    }
    await mesh.node(0).engine.start();
    await allArrived(mesh, keys, 'the 40 large records on node-0');
    // Bounded batches: each carried about BOUND bytes, so the drain took several.
    expect(await metricValue(mesh.node(0).engine, 'replication_batch_flush_total', { peer_id: 'node-1' })).toBeGreaterThanOrEqual(RECORDS * RECORD / (BOUND + RECORD));
  });
});

describe('hot path: zstd frames that inflate to the payload limit', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh();
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('applies 40 frames of a few hundred bytes that each inflate to just under max_payload_bytes', async () => {
    const size = MAX_PAYLOAD - 1;
    const frame = streamedZeroFrame(size, { pledge: true });
    expect(frame.length).toBeLessThan(1024);
    const content = Buffer.alloc(size);
    const hash = sha256Hex(content);
    const keys: string[] = [];
    const stream = `${mesh.node(1).prefix}cdc`;
    for (let i = 0; i < RECORDS; i++) {
      const ms = Date.now();
      const change: PutChange = {
        op: 'PUT', key: `zero/${i}`, content, hash, contentType: 'binary', version: 1, updatedAt: ms,
        hlc: formatHlc(ms, i), origin: 'node-1', wireData: frame,
      };
      keys.push(change.key);
      await mesh.node(1).store.client.xadd(stream, '*', ...encodeCdcEntry(change, MAX_PAYLOAD));
    }
    await mesh.node(0).engine.start();
    await waitFor(async () => (await mesh.node(0).store.keyCount()) === RECORDS, { what: '40 inflated records on node-0', timeoutMs: 30_000 });
    for (const key of keys) expect((await mesh.node(0).store.get(key))?.hash).toBe(hash);
  });
});

describe('hot path: a restart in the middle of a large backlog', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh();
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('resumes from the cursor it reached and finishes the drain', async () => {
    const keys: string[] = [];
    for (let i = 0; i < RECORDS; i++) {
      keys.push(`big/${i}`);
      await mesh.node(1).store.put(`big/${i}`, randomBytes(RECORD));
    }
    const n = mesh.node(0);
    await n.engine.start();
    await waitFor(async () => (await n.store.keyCount()) > 0, { what: 'the first large records on node-0', timeoutMs: 30_000 });
    await n.engine.shutdown();
    const cursorAtStop = n.engine.status().peers.find((p) => p.peer_id === 'node-1')?.cursor;
    expect(cursorAtStop).not.toBe('0-0');
    n.engine = new ReplicationEngine(n.config, { store: n.store });
    await n.engine.start();
    await allArrived(mesh, keys, 'the rest of the backlog after the restart');
  });
});

describe('daemon: kill -9 in the middle of a large backlog', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-large-'));
  const servers = useRedisServers(2, REDIS);
  let daemon: DaemonProcess | null = null;
  afterAll(async () => {
    await daemon?.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('restarts from the cursor it reached and finishes, instead of crash-looping', async () => {
    const peer = await RedisStore.connect({ url: servers()[1]!.url, prefix: 'n1:', nodeId: 'node-1', maxPayloadBytes: MAX_PAYLOAD });
    const local = new Redis(servers()[0]!.url);
    try {
      for (let i = 0; i < RECORDS; i++) await peer.put(`big/${i}`, randomBytes(RECORD));
      const configPath = path.join(tmp, 'node-0.yaml');
      writeFileSync(configPath, JSON.stringify({
        replication: {
          local_node_id: 'node-0',
          local: { redis_url: servers()[0]!.url, redis_prefix: 'n0:' },
          http: { listen: '127.0.0.1:0' },
          store: { ...STORE, max_apply_bytes: BOUND },
          settings: { ...SETTINGS, cold_path: { enabled: false } },
          peers: [{ node_id: 'node-1', redis_url: servers()[1]!.url, redis_prefix: 'n1:' }],
          cursor: { sqlite_path: path.join(tmp, 'cursors.db') },
        },
      }));
      const count = async (): Promise<number> => Number((await local.hget('n0:m:meta', 'live')) ?? 0);
      daemon = await DaemonProcess.run(configPath);
      await waitFor(async () => (await count()) >= 10, { what: 'the first records applied by the daemon', timeoutMs: 30_000 });
      await daemon.kill();
      daemon = await DaemonProcess.run(configPath);
      await waitFor(async () => (await count()) === RECORDS, { what: 'every record after the restart', timeoutMs: 30_000 });
    } finally {
      local.disconnect();
      await peer.close();
    }
  });
});

describe('hot path: replies larger than the read bound', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    mesh = await startMesh();
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('a peer connection drops a reply past maxReplyBytes and names its first entry', async () => {
    const stream = `${mesh.node(1).prefix}cdc`;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(String(await mesh.node(1).store.client.xadd(stream, '*', 'pad', randomBytes(200 * KiB))));
    const conn = new RedisPeerConnection({ peerId: 'node-1', endpoint: { redis_url: mesh.node(1).server.url }, prefix: mesh.node(1).prefix });
    try {
      await waitFor(() => conn.connected, { what: 'peer connection up' });
      const err = await conn.read('0-0', 10, 100, 1024 * KiB).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReplyTooLargeError);
      expect((err as ReplyTooLargeError).firstId).toBe(ids[0]);
      await waitFor(() => conn.connected, { what: 'peer connection back' });
      expect((await conn.read('0-0', 4, 100, 1024 * KiB)).map((e) => e.id)).toEqual(ids.slice(0, 4));
    } finally {
      await conn.close();
    }
  });

  it('skips an entry larger than any valid one as too_large and applies the entries around it', async () => {
    const stream = `${mesh.node(1).prefix}cdc`;
    const before = await mesh.node(1).store.put('before', randomBytes(RECORD));
    // Valid fields, padded with unknown ones to 1.5 MiB: more than a reply may carry.
    const ms = Date.now();
    const content = randomBytes(1024);
    const padded = putChange('padded', content, ms, 'node-1');
    const pad = [0, 1, 2].flatMap((i) => [Buffer.from(`pad${i}`), randomBytes(512 * KiB)]);
    await mesh.node(1).store.client.xadd(stream, '*', ...encodeCdcEntry(padded, MAX_PAYLOAD), ...pad);
    const after = await mesh.node(1).store.put('after', randomBytes(RECORD));
    await mesh.node(0).engine.start();
    await waitFor(async () => (await mesh.node(0).store.get('after'))?.hlc === after.hlc, { what: 'the entry after the oversized one', timeoutMs: 30_000 });
    expect((await mesh.node(0).store.get('before'))?.hlc).toBe(before.hlc);
    expect(await mesh.node(0).store.get('padded')).toBeNull();
    expect(await metricValue(mesh.node(0).engine, 'replication_cdc_events_rejected_total', { peer_id: 'node-1', reason: 'too_large' })).toBe(1);
  });
});

describe('cold path: repairing many large records', () => {
  const servers = useRedisServers(2, REDIS);
  let stores: RedisStore[] = [];
  let peerClient: Redis;
  beforeAll(async () => {
    stores = await Promise.all(servers().map((s, i) => RedisStore.connect({
      url: s.url, prefix: `n${i}:`, nodeId: `node-${i}`, maxPayloadBytes: MAX_PAYLOAD, maxApplyBytes: BOUND,
    })));
    peerClient = new Redis(servers()[1]!.url);
  });
  afterAll(async () => {
    peerClient?.disconnect();
    await Promise.allSettled(stores.map((s) => s.close()));
  });

  it('a scan page holds at most maxScanBytes of content, and paging still lists every record', async () => {
    const store = await RedisStore.connect({ url: servers()[0]!.url, prefix: 'scan:', nodeId: 'node-0', maxPayloadBytes: MAX_PAYLOAD, maxScanBytes: BOUND });
    try {
      for (let i = 0; i < 10; i++) await store.put(`s/${i}`, randomBytes(RECORD));
      const first = await store.scan({ limit: 100 });
      expect(first.items).toHaveLength(2);
      const seen = first.items.map((r) => r.key);
      let cursor = first.cursor;
      while (cursor !== null) {
        const page = await store.scan({ cursor, limit: 100 });
        expect(page.items.reduce((sum, r) => sum + r.content.length, 0)).toBeLessThanOrEqual(BOUND);
        seen.push(...page.items.map((r) => r.key));
        cursor = page.cursor;
      }
      expect(seen.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `s/${i}`).sort());
    } finally {
      await store.close();
    }
  });

  it('fetches and applies in rounds of at most max_fetch_bytes, and converges', async () => {
    const [local, remote] = stores as [RedisStore, RedisStore];
    for (let i = 0; i < RECORDS; i++) await remote.put(`big/${i}`, randomBytes(RECORD));
    const reader = new RedisStoreReader(peerClient, 'n1:');
    const fetched: number[] = [];
    const peer = {
      treeFormat: () => reader.treeFormat(),
      merkleRoot: () => reader.merkleRoot(),
      branchDigests: () => reader.branchDigests(),
      bucketDigests: (b: readonly string[]) => reader.bucketDigests(b),
      bucketLeaves: (b: readonly string[]) => reader.bucketLeaves(b),
      recordSizes: (k: readonly string[]) => reader.recordSizes(k),
      fetchChanges: async (k: readonly string[]): Promise<Change[]> => {
        const changes = await reader.fetchChanges(k);
        fetched.push(changes.reduce((sum, c) => sum + (c.op === 'PUT' ? c.content.length : 0), 0));
        return changes;
      },
    };
    const outcome = await repairWithPeer({ store: local, peer, peerId: 'node-1', maxItems: 1000, maxFetchBytes: BOUND });
    expect(outcome.result).toBe('repaired');
    expect(await local.merkleRoot()).toBe(await remote.merkleRoot());
    expect(Math.max(...fetched)).toBeLessThanOrEqual(BOUND);
    expect(fetched.length).toBeGreaterThanOrEqual(RECORDS * RECORD / BOUND);
  });
});
