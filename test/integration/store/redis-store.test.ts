import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { useRedis, useRedisClient } from '../../support/use-redis.js';
import { startRedis } from '../../support/redis-server.js';
import { allLeaves, openStore, uniquePrefix } from '../../support/store-fixtures.js';
import { delChange, putChange } from '../../support/changes.js';
import { LwwModel } from '../../support/lww-model.js';
import { waitFor, withTimeout } from '../../support/wait.js';
import { RedisStore } from '../../../src/store/redis-store.js';
import { decodeCdcEntry } from '../../../src/cdc/codec.js';
import { formatHlc, parseHlc } from '../../../src/model/hlc.js';
import { bucketOf, rootOf, ZERO_DIGEST } from '../../../src/merkle/tree-shape.js';
import { ValidationError } from '../../../src/errors.js';

const redis = useRedis();
const raw = useRedisClient(redis);

async function streamEntries(store: RedisStore): Promise<[string, Buffer[]][]> {
  const entries = await raw().xrangeBuffer(store.keys.stream, '-', '+');
  return entries.map(([id, fields]) => [id.toString(), fields]);
}

describe('RedisStore application API', () => {
  it('put, get, version increments, delete, and a delete of an unknown key still writes a tombstone', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      const w1 = await store.put('patient/1', Buffer.from('{"n":1}'), { contentType: 'json' });
      const w2 = await store.put('patient/1', Buffer.from('{"n":2}'), { contentType: 'json' });
      expect(w1.version).toBe(1);
      expect(w2.version).toBe(2);
      expect(w2.hlc > w1.hlc).toBe(true);
      expect(w2.origin).toBe('london');
      const got = await store.get('patient/1');
      expect(got).toMatchObject({ key: 'patient/1', contentType: 'json', version: 2, hlc: w2.hlc, hash: w2.hash });
      expect(got?.content.toString()).toBe('{"n":2}');

      const d = await store.delete('patient/1');
      expect(d.hlc > w2.hlc).toBe(true);
      expect(await store.get('patient/1')).toBeNull();
      const again = await store.put('patient/1', Buffer.from('x'));
      expect(again.version).toBe(3);

      await store.delete('never-seen');
      const leaves = await allLeaves(store);
      expect(leaves.get('never-seen')).toMatchObject({ deleted: true, origin: 'london' });
      expect(await store.keyCount()).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('scan pages through live records by prefix with an opaque cursor', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      for (let i = 0; i < 25; i++) await store.put(`a/${String(i).padStart(2, '0')}`, Buffer.from(String(i)));
      await store.put('b/1', Buffer.from('b'));
      await store.delete('a/03');
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await store.scan({ prefix: 'a/', cursor, limit: 10 });
        seen.push(...page.items.map((r) => r.key));
        cursor = page.cursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(24);
      expect(seen).not.toContain('a/03');
      expect(seen).toEqual([...seen].sort());
      expect((await store.scan({ limit: 100 })).items).toHaveLength(25);
    } finally {
      await store.close();
    }
  });

  it('refuses bad input with a typed error and changes nothing', async () => {
    const store = await openStore(redis().url, { nodeId: 'london', maxPayloadBytes: 1000 });
    try {
      await store.put('ok', Buffer.from('v'));
      const rootBefore = await store.merkleRoot();
      const lenBefore = await raw().xlen(store.keys.stream);
      const cases: [() => Promise<unknown>, string][] = [
        [() => store.put('', Buffer.from('x')), 'invalid_key'],
        [() => store.put('k'.repeat(1025), Buffer.from('x')), 'invalid_key'],
        [() => store.put('bad\ud800', Buffer.from('x')), 'invalid_key'],
        [() => store.put('big', Buffer.alloc(1001)), 'payload_too_large'],
        [() => store.put('ct', Buffer.from('x'), { contentType: 'xml' as never }), 'invalid_content_type'],
        [() => store.delete(''), 'invalid_key'],
        [() => store.applyChanges([putChange('fine', 'x', 1, 'peer'), putChange('', 'x', 1, 'peer')]), 'invalid_key'],
        [() => store.applyChanges([{ ...putChange('k', 'x', 1, 'peer'), hlc: 'yesterday' }]), 'invalid_change'],
        [() => store.applyChanges([{ ...putChange('k', 'x', 1, 'peer'), origin: 'bad origin"' }]), 'invalid_change'],
      ];
      for (const [call, code] of cases) {
        const err = await call().then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).code).toBe(code);
      }
      expect(await store.merkleRoot()).toBe(rootBefore);
      expect(await raw().xlen(store.keys.stream)).toBe(lenBefore);
      expect(await store.get('fine')).toBeNull();
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore CDC emission', () => {
  it('writes entries in sync-engine field order that the decoder reads back exactly', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      const big = Buffer.from(JSON.stringify({ notes: 'repeated text block '.repeat(20) }));
      const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const w1 = await store.put('doc', big, { contentType: 'json', traceParent: tp });
      const w2 = await store.put('bin', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2]));
      const d = await store.delete('doc');
      const entries = await streamEntries(store);
      expect(entries).toHaveLength(3);
      const names = entries.map(([, f]) => f.filter((_, i) => i % 2 === 0).map(String));
      expect(names).toEqual([['op', 'key', 'hash', 'data', 'meta'], ['op', 'key', 'hash', 'data', 'meta'], ['op', 'key', 'meta']]);
      const decoded = entries.map(([id, f]) => decodeCdcEntry(id, f, { peerNodeId: 'unused' }));
      expect(decoded[0]).toMatchObject({ op: 'PUT', key: 'doc', hash: w1.hash, hlc: w1.hlc, origin: 'london', version: 1, contentType: 'json', traceParent: tp });
      expect(decoded[0]!.op === 'PUT' && decoded[0]!.content.equals(big)).toBe(true);
      // Compressible content travels compressed.
      expect(entries[0]![1][7]!.length).toBeLessThan(big.length);
      expect(decoded[1]).toMatchObject({ op: 'PUT', key: 'bin', hash: w2.hash, hlc: w2.hlc });
      expect(decoded[1]!.op === 'PUT' && decoded[1]!.content.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2]))).toBe(true);
      expect(decoded[2]).toMatchObject({ op: 'DEL', key: 'doc', hlc: d.hlc, origin: 'london' });
    } finally {
      await store.close();
    }
  });

  it('applyChanges: applied / stale / duplicate, re-emits only what it applied, keeps the original stamp', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      const newer = putChange('k', 'new', 2000, 'paris', { version: 7 });
      const older = putChange('k', 'old', 1000, 'paris');
      const tieLoser = putChange('k', 'tie', 2000, 'berlin');
      expect(await store.applyChanges([newer, older, newer, tieLoser])).toEqual(['applied', 'stale', 'duplicate', 'stale']);
      const entries = await streamEntries(store);
      expect(entries).toHaveLength(1);
      expect(decodeCdcEntry(entries[0]![0], entries[0]![1])).toMatchObject({ key: 'k', hlc: newer.hlc, origin: 'paris', version: 7 });
      const rec = await store.get('k');
      expect(rec).toMatchObject({ version: 7, hlc: newer.hlc, origin: 'paris' });
      // A delete with a greater stamp wins; an equal-hlc delete from a greater origin wins too.
      expect(await store.applyChanges([delChange('k', 2000, 'zurich')])).toEqual(['applied']);
      expect(await store.get('k')).toBeNull();
      expect(await store.isCurrent('k', newer.hash)).toBe(false);
      // The tombstone keeps the deleted record's version: a later local put counts on from it;
      // a replicated delete of a key never seen starts from 0.
      expect((await store.put('k', Buffer.from('back'))).version).toBe(8);
      expect(await store.applyChanges([delChange('unseen', 3000, 'paris')])).toEqual(['applied']);
      expect((await store.put('unseen', Buffer.from('v'))).version).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('does not re-emit when emitReplicated is off', async () => {
    const store = await openStore(redis().url, { nodeId: 'london', emitReplicated: false });
    try {
      await store.applyChanges([putChange('k', 'v', 1000, 'paris')]);
      expect(await raw().xlen(store.keys.stream)).toBe(0);
      expect(await store.isCurrent('k', putChange('k', 'v', 1000, 'paris').hash)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore clock', () => {
  it('advances past every stamp it applies within max_future_skew; after the wall clock stepped back further, a write still beats the key it overwrites', async () => {
    const prefix = uniquePrefix('clock');
    const now = 5_000_000_000_000;
    const ahead = now + 30_000;
    const s1 = await RedisStore.connect({ url: redis().url, prefix, nodeId: 'london', now: () => now });
    expect(await s1.applyChanges([putChange('x', 'v', ahead, 'paris')])).toEqual(['applied']);
    const w = await s1.put('y', Buffer.from('v'));
    expect(parseHlc(w.hlc).physicalMs).toBe(ahead);
    await s1.close();
    // Two minutes back: more than the 60 s bound. The clock restarts at the bound; the key's own stamp is still beaten.
    const back = now - 120_000;
    const s2 = await RedisStore.connect({ url: redis().url, prefix, nodeId: 'london', now: () => back });
    const w2 = await s2.put('x', Buffer.from('local'));
    expect(w2.hlc > formatHlc(ahead, 0)).toBe(true);
    expect((await s2.get('x'))?.origin).toBe('london');
    const w3 = await s2.put('z', Buffer.from('v'));
    expect(parseHlc(w3.hlc).physicalMs).toBe(back + 60_000);
    await s2.close();
  });

  it('refuses a store whose tree format differs', async () => {
    const prefix = uniquePrefix('fmt');
    await raw().hset(`${prefix}m:meta`, 'format', 'other/v9');
    await expect(RedisStore.connect({ url: redis().url, prefix, nodeId: 'london' })).rejects.toMatchObject({ code: 'tree_format_mismatch' });
  });
});

describe('RedisStore tombstone GC', () => {
  it('drops expired tombstones from the tree; two stores stay equal', async () => {
    const ttl = 60_000;
    const a = await openStore(redis().url, { nodeId: 'a', tombstoneTtlMs: ttl });
    const b = await openStore(redis().url, { nodeId: 'b', tombstoneTtlMs: ttl });
    try {
      const changes = [
        putChange('live', 'v', 1000, 'a'), delChange('old-del', 1000, 'a'), delChange('new-del', 100_000, 'b'),
        putChange('old-del', 'v', 500, 'b'),
      ];
      await a.applyChanges(changes);
      await b.applyChanges([...changes].reverse());
      expect(await a.merkleRoot()).toBe(await b.merkleRoot());
      // At t=70s only the tombstone stamped at 1s is past the 60s horizon.
      expect(await a.collectTombstones(70_000)).toBe(1);
      expect(await a.merkleRoot()).not.toBe(await b.merkleRoot());
      expect(await b.collectTombstones(70_000)).toBe(1);
      expect(await a.merkleRoot()).toBe(await b.merkleRoot());
      const leaves = await allLeaves(a);
      expect([...leaves.keys()].sort()).toEqual(['live', 'new-del']);
      expect(await a.merkleRoot()).toBe(rootOf(leaves));
      // The bucket that held only old-del is gone entirely: leaf and bucket digest (zero) removed together.
      expect([bucketOf('live'), bucketOf('new-del')]).not.toContain(bucketOf('old-del'));
      expect(await raw().exists(a.keys.leaves(bucketOf('old-del')))).toBe(0);
      expect(await a.collectTombstones(70_000)).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('RedisStore backpressure', () => {
  const MiB = 1024 * 1024;

  /** `INFO commandstats` calls of INFO so far (the reading itself is counted by the next one). */
  async function infoCalls(redis: Redis): Promise<number> {
    return Number(/^cmdstat_info:calls=(\d+)/m.exec(await redis.info('commandstats'))?.[1] ?? '0');
  }

  async function usedMemory(redis: Redis): Promise<number> {
    return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1]);
  }

  it('shouldAcceptWrites turns false above the memory threshold, true again once memory is freed, asking Redis at most once per interval', async () => {
    // Threshold (0.25 × 16 MiB = 4 MiB) far below maxmemory, and the filler stops 1 MiB past it: Redis keeps
    // ~11 MiB of headroom, so nothing here is ever refused for OOM. The filler sends 16 KiB values, under Redis's
    // 32 KiB "big argument" size: one large SET needs about twice its size while it is read (the argument plus a
    // same-size query buffer preallocated for the next one), which is why a single 4 MiB SET is refused by an
    // 8 MiB noeviction server before the value is even stored.
    const maxmemory = 16 * MiB;
    const threshold = 0.25;
    const small = await startRedis({ maxmemory });
    const filler = new Redis(small.url);
    filler.on('error', () => undefined); // failures surface as rejected commands; no reconnect noise after stop()
    let clock = 0;
    const store = await RedisStore.connect({ url: small.url, nodeId: 'mem', memoryThreshold: threshold, memoryPollIntervalMs: 1000, now: () => clock });
    try {
      expect(await store.shouldAcceptWrites()).toBe(true);

      const fillerKeys: string[] = [];
      const value = Buffer.alloc(16 * 1024, 1);
      while ((await usedMemory(filler)) < threshold * maxmemory + MiB) {
        // Bounded: 8 MiB of values is far more than the threshold needs.
        expect(fillerKeys.length).toBeLessThan(512);
        const batch = filler.pipeline();
        for (let i = 0; i < 16; i++) {
          const key = `filler:${fillerKeys.length}`;
          fillerKeys.push(key);
          batch.set(key, value);
        }
        for (const [err] of (await batch.exec()) ?? []) if (err) throw err;
      }
      expect(await usedMemory(filler)).toBeLessThan(maxmemory / 2);

      // Within the interval the cached answer stands, however many callers ask: no INFO reaches Redis.
      clock = 999;
      const before = await infoCalls(filler);
      expect(await Promise.all(Array.from({ length: 20 }, () => store.shouldAcceptWrites()))).toEqual(Array(20).fill(true));
      expect((await infoCalls(filler)) - before).toBe(1); // only the `before` reading itself

      clock = 1000;
      expect(await store.shouldAcceptWrites()).toBe(false);
      // Backpressure trips before Redis itself would refuse: the store can still write.
      await store.put('still-writable', Buffer.from('v'));

      await filler.del(...fillerKeys);
      expect(await usedMemory(filler)).toBeLessThan(threshold * maxmemory);
      clock = 1999;
      expect(await store.shouldAcceptWrites()).toBe(false);
      clock = 2000;
      expect(await store.shouldAcceptWrites()).toBe(true);
    } finally {
      filler.disconnect();
      await store.close();
      await small.stop();
    }
  });

  it('fails closed: shouldAcceptWrites rejects with memory_check_failed when Redis will not report its memory', async () => {
    // A user that may not run INFO: the store cannot tell, so it must not say "accepting".
    await raw().call('ACL', 'SETUSER', 'no-info', 'on', '>pw', '~*', '&*', '+@all', '-info');
    // enableReadyCheck off: ioredis's own ready check uses INFO too and would only warn about it.
    const client = new Redis(redis().urlFor({ username: 'no-info', password: 'pw' }), { enableReadyCheck: false });
    const store = await RedisStore.connect({ redis: client, prefix: uniquePrefix('mem'), nodeId: 'mem', memoryPollIntervalMs: 0 });
    try {
      await expect(store.shouldAcceptWrites()).rejects.toMatchObject({ code: 'memory_check_failed' });
      await expect(store.shouldAcceptWrites()).rejects.toMatchObject({ code: 'memory_check_failed' });
    } finally {
      client.disconnect();
      await raw().call('ACL', 'DELUSER', 'no-info');
    }
  });

  it('refuses a memory threshold outside (0, 1]', async () => {
    for (const memoryThreshold of [0, -0.1, 1.5, Number.NaN]) {
      await expect(openStore(redis().url, { nodeId: 'mem', memoryThreshold })).rejects.toMatchObject({ code: 'invalid_option', field: 'memoryThreshold' });
    }
  });
});

describe('RedisStore close', () => {
  it('settles calls waiting on a dead local Redis with store_closed instead of leaving them pending', async () => {
    const doomed = await startRedis();
    const store = await RedisStore.connect({ url: doomed.url, prefix: uniquePrefix('close'), nodeId: 'london' });
    try {
      await store.put('k', Buffer.from('v'));
      await doomed.kill();
      await waitFor(() => store.client.status === 'reconnecting', { what: 'the store client to notice the dead server' });
      // Queued by ioredis until a reconnect that close() cancels.
      const stranded = store.put('k', Buffer.from('w')).then(() => null, (e: unknown) => e);
      await store.close();
      expect(await withTimeout(stranded, 5_000, 'the stranded put to settle')).toMatchObject({ code: 'store_closed' });
      await expect(store.get('k')).rejects.toMatchObject({ code: 'store_closed' });
    } finally {
      await store.close();
      await doomed.stop();
    }
  });
});

describe('RedisStore crash atomicity', () => {
  it('a Redis killed mid-write leaves every record with its tree leaf and its CDC entry', async () => {
    const durable = await startRedis({ persistence: true }); // AOF, appendfsync always
    const prefix = uniquePrefix('crash');
    // The writers' client gives up at the first lost connection, so every write in flight when the server dies
    // settles (rejected) at once instead of waiting in ioredis's queues for a reconnect that never comes.
    const writer = new Redis(durable.url, { retryStrategy: () => null });
    writer.on('error', () => undefined); // the kill's ECONNRESET; the writes themselves reject
    const store = await RedisStore.connect({ redis: writer, prefix, nodeId: 'london' });
    const WRITERS = 16;
    const KILL_AFTER = 200;
    const acked: { key: string; hlc: string }[] = [];
    let next = 0;
    let killed: Promise<void> | undefined;
    // Concurrent writers until their first failure; the server is SIGKILLed once 200 writes are acknowledged,
    // with the other writers' scripts in flight: some of those land, some do not; none may land half.
    await withTimeout(
      Promise.all(
        Array.from({ length: WRITERS }, async () => {
          for (;;) {
            const i = next++;
            const key = `k${i % 50}`;
            try {
              const { hlc } = i % 5 === 4 ? await store.delete(key) : await store.put(key, Buffer.from(`v${i}`));
              acked.push({ key, hlc });
            } catch {
              return;
            }
            if (acked.length === KILL_AFTER) killed = durable.kill();
          }
        }),
      ),
      20_000,
      'the writers to stop after the kill',
    );
    expect(killed).toBeDefined();
    await killed;
    writer.disconnect();
    await durable.restart({ keepData: true });

    const reopened = await RedisStore.connect({ url: durable.url, prefix, nodeId: 'london' });
    const check = new Redis(durable.url);
    try {
      const leaves = await allLeaves(reopened);
      expect(leaves.size).toBeGreaterThan(0);
      expect(await reopened.merkleRoot()).toBe(rootOf(leaves));

      // Content keys ↔ leaves: a content key for exactly the live leaves (a tombstone has none), each
      // record read back with exactly its leaf's stamp; the live index agrees.
      const recordKeys: string[] = [];
      for await (const batch of check.scanStream({ match: `${prefix}r:*`, count: 1000 }) as AsyncIterable<string[]>) {
        recordKeys.push(...batch.map((k) => k.slice(`${prefix}r:`.length)));
      }
      expect(recordKeys.sort()).toEqual([...leaves].filter(([, l]) => !l.deleted).map(([k]) => k).sort());
      const records = await reopened.fetchChanges([...leaves.keys()]);
      expect(records.length).toBe(leaves.size);
      for (const record of records) {
        const leaf = leaves.get(record.key);
        expect(leaf).toEqual({ hlc: record.hlc, origin: record.origin, hash: record.op === 'PUT' ? record.hash : '', deleted: record.op === 'DEL' });
      }
      expect(await reopened.keyCount()).toBe([...leaves.values()].filter((l) => !l.deleted).length);

      // CDC ↔ state: each key's last entry is its leaf, and replaying the stream gives exactly the tree.
      const entries = (await check.xrangeBuffer(reopened.keys.stream, '-', '+')).map(([id, f]) => decodeCdcEntry(id.toString(), f));
      const lastEntryByKey = new Map(entries.map((e) => [e.key, e]));
      for (const [key, leaf] of leaves) {
        expect(lastEntryByKey.get(key)).toMatchObject({ hlc: leaf.hlc, op: leaf.deleted ? 'DEL' : 'PUT' });
        const rec = await reopened.get(key);
        expect(rec === null).toBe(leaf.deleted);
        if (rec) expect(rec.hash).toBe(leaf.hash);
      }
      expect(new LwwModel().applyAll(entries).root()).toBe(await reopened.merkleRoot());

      // appendfsync always: every acknowledged write survived the kill, in the stream and in the state.
      expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER);
      const streamed = new Set(entries.map((e) => `${e.key} ${e.hlc}`));
      for (const { key, hlc } of acked) {
        expect(streamed.has(`${key} ${hlc}`)).toBe(true);
        expect(leaves.get(key)!.hlc >= hlc).toBe(true);
      }
    } finally {
      check.disconnect();
      await reopened.close();
      await durable.stop();
    }
  });
});

describe('RedisStoreReader', () => {
  it('reads branch, bucket and leaf digests consistent with the root', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      expect(await store.merkleRoot()).toBe(ZERO_DIGEST);
      for (let i = 0; i < 300; i++) await store.put(`key-${i}`, Buffer.from(String(i)));
      const branches = await store.branchDigests();
      let xor = Buffer.alloc(20);
      for (const d of branches.values()) xor = Buffer.from(xor.map((v, i) => v ^ Buffer.from(d, 'hex')[i]!));
      expect(xor.toString('hex')).toBe(await store.merkleRoot());
      const leaves = await allLeaves(store);
      expect(leaves.size).toBe(300);
      expect(formatHlc(0, 0) < [...leaves.values()][0]!.hlc).toBe(true);
      // Each branch's bucket digests XOR to the branch digest.
      const buckets = await store.bucketDigests([...branches.keys()]);
      for (const [branch, digest] of branches) {
        let sum = Buffer.alloc(20);
        for (const d of buckets.get(branch)!.values()) sum = Buffer.from(sum.map((v, i) => v ^ Buffer.from(d, 'hex')[i]!));
        expect(sum.toString('hex')).toBe(digest);
      }
    } finally {
      await store.close();
    }
  });

  it('refuses a corrupt bucket digest with a clear error instead of comparing with it', async () => {
    const store = await openStore(redis().url, { nodeId: 'london' });
    try {
      await store.put('k', Buffer.from('v'));
      const bucket = bucketOf('k');
      await raw().hset(store.keys.leaves(bucket), '', 'abc');
      await expect(store.bucketDigests([bucket.slice(0, 2)])).rejects.toMatchObject({ code: 'bad_tree', message: expect.stringContaining(`bucket ${bucket} has a 3-byte digest`) });
    } finally {
      await store.close();
    }
  });
});
