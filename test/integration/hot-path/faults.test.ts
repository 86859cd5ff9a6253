// The hot path under faults: a peer's Redis dying and coming back, poison entries in a stream, and a
// stream trimmed past the cursor. Real redis-servers throughout.
import { describe, expect, it } from 'vitest';
import { encodeCdcEntry } from '../../../src/cdc/codec.js';
import { sha256Hex } from '../../../src/model/content-hash.js';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import type { PutChange } from '../../../src/model/change.js';
import { metricValue } from '../../support/mesh.js';
import { waitFor } from '../../support/wait.js';
import { streamedZeroFrame } from '../../support/zstd-frames.js';
import { putChange } from '../../support/changes.js';
import { useMesh } from '../../support/use-mesh.js';

describe('hot path: a peer Redis killed and restarted', () => {
  const mesh = useMesh({ nodes: 3, redis: { persistence: true } });

  it('opens that peer circuit, leaves the other peers alone, and resumes with nothing lost', async () => {
    const beforeKill = await mesh().node(1).store.put('before-kill', Buffer.from('acknowledged'));
    await waitFor(() => mesh().node(0).store.get('before-kill'), { what: 'before-kill on node-0' });
    const lastOnNode1 = await mesh().node(1).store.put('just-before-kill', Buffer.from('also acknowledged'));

    await mesh().node(1).server.kill();
    await waitFor(() => mesh().node(0).engine.status().peers.find((p) => p.peer_id === 'node-1')?.circuit === 'open', {
      what: 'node-0 circuit to node-1 open',
    });
    expect(mesh().node(0).engine.status().peers.find((p) => p.peer_id === 'node-2')?.circuit).toBe('closed');
    // node-2 still replicates to node-0 while node-1 is down.
    await mesh().node(2).store.put('while-down', Buffer.from('x'));
    await waitFor(() => mesh().node(0).store.get('while-down'), { what: 'while-down on node-0' });
    expect(await metricValue(mesh().node(0).engine, 'replication_peer_circuit_state', { peer_id: 'node-1' })).toBe(2);

    await mesh().node(1).server.restart();
    await waitFor(() => mesh().node(0).engine.status().peers.find((p) => p.peer_id === 'node-1')?.circuit === 'closed', {
      what: 'node-0 circuit to node-1 closed again',
    });
    // The write acknowledged just before the kill survived on node-1 and arrives everywhere.
    for (const i of [0, 2]) {
      const rec = await waitFor(() => mesh().node(i).store.get('just-before-kill'), { what: `just-before-kill on node-${i}` });
      expect(rec.hlc).toBe(lastOnNode1.hlc);
    }
    const after = await mesh().node(1).store.put('after-restart', Buffer.from('y'));
    for (const i of [0, 2]) {
      const rec = await waitFor(() => mesh().node(i).store.get('after-restart'), { what: `after-restart on node-${i}` });
      expect(rec.hlc).toBe(after.hlc);
    }
    // node-1 also caught up with what it missed while down.
    await waitFor(() => mesh().node(1).store.get('while-down'), { what: 'while-down on node-1' });
    expect((await mesh().node(2).store.get('before-kill'))?.hlc).toBe(beforeKill.hlc);
  });
});

describe('hot path: a peer back after an outage, with nothing new to send', () => {
  const mesh = useMesh({ nodes: 2, redis: { persistence: true }, settings: { cold_path: { enabled: false }, peer_health: { enabled: false } } });

  it('clears the peer error from status once the peer answers again, without waiting for a batch', async () => {
    const status = (): string | null => mesh().node(0).engine.status().peers.find((p) => p.peer_id === 'node-1')?.last_error ?? null;
    await mesh().node(1).server.kill();
    await waitFor(() => status() !== null, { what: 'node-0 reporting the peer error' });
    await mesh().node(1).server.restart();
    // No writes follow: the stream stays idle, so no batch is applied to clear it.
    await waitFor(() => status() === null && mesh().node(0).engine.status().peers[0]?.connected === true, {
      what: `the peer error cleared (last: ${status()})`,
    });
  });
});

describe('hot path: poison entries', () => {
  const mesh = useMesh({ nodes: 2, store: { max_payload_bytes: 1024 * 1024 } });

  function goodPut(key: string, content: string): PutChange {
    return putChange(key, content, Date.now(), 'node-0');
  }

  it('applies the good entries between them and counts each bad one by reason', async () => {
    const redis = mesh().node(0).store.client;
    const stream = `${mesh().node(0).prefix}cdc`;
    const xadd = (fields: (string | Buffer)[]): Promise<unknown> => redis.xadd(stream, '*', ...fields);
    const fieldsOf = (c: PutChange): Buffer[] => encodeCdcEntry(c);
    const replaceField = (fields: Buffer[], name: string, value: Buffer): Buffer[] =>
      fields.map((f, i) => (i % 2 === 1 && fields[i - 1]!.toString() === name ? value : f));

    await xadd(fieldsOf(goodPut('good/1', 'one')));
    // Bad zstd: the magic, then garbage.
    await xadd(replaceField(fieldsOf(goodPut('bad/zstd', 'x'.repeat(100))), 'data', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4, 5])));
    // Hash does not match the content.
    await xadd(replaceField(fieldsOf(goodPut('bad/hash', 'content')), 'hash', Buffer.from(sha256Hex(Buffer.from('other')))));
    // Missing fields.
    await xadd(['op', 'PUT', 'key', 'bad/missing']);
    // Unknown op.
    await xadd(replaceField(fieldsOf(goodPut('bad/op', 'z')), 'op', Buffer.from('MERGE')));
    // A ~1 GB zstd bomb in a few hundred KB.
    const bomb = streamedZeroFrame(1024 * 1024 * 1024);
    await xadd(replaceField(fieldsOf(goodPut('bad/bomb', 'small')), 'data', bomb));
    await xadd(fieldsOf(goodPut('good/2', 'two')));

    const node1 = mesh().node(1);
    await waitFor(() => node1.store.get('good/2'), { what: 'good/2 on node-1' });
    expect((await node1.store.get('good/1'))?.content.toString()).toBe('one');
    for (const key of ['bad/zstd', 'bad/hash', 'bad/missing', 'bad/op', 'bad/bomb']) expect(await node1.store.get(key)).toBeNull();
    const rejected = (reason: string): Promise<number> =>
      metricValue(node1.engine, 'replication_cdc_events_rejected_total', { peer_id: 'node-0', reason });
    expect(await rejected('bad_zstd')).toBe(1);
    expect(await rejected('bad_hash')).toBe(1);
    expect(await rejected('missing_field')).toBe(1);
    expect(await rejected('unknown_op')).toBe(1);
    expect(await rejected('too_large')).toBe(1);
    // /status tells the same story per peer: 7 entries read, the 2 good ones applied, the 5 bad ones rejected.
    // (awaited: the store holds good/2 a moment before the tailer has counted its batch)
    const counters = await waitFor(() => {
      const c = node1.engine.status().peers.find((p) => p.peer_id === 'node-0')?.counters;
      return c && c.events_applied + c.events_rejected >= 7 ? c : null;
    }, { what: 'node-1 counting the batch' });
    expect(counters).toMatchObject({ events_read: 7, events_applied: 2, events_rejected: 5, events_deduped: 0 });
    expect(node1.engine.state).toBe('running');
  });
});

describe('hot path: a stream trimmed past the cursor', () => {
  const mesh = useMesh({ nodes: 2 });

  it('counts the gap, requests a repair, and the repair brings what was trimmed', async () => {
    await mesh().node(0).store.put('seen', Buffer.from('before the stop'));
    await waitFor(() => mesh().node(1).store.get('seen'), { what: 'seen on node-1' });
    await mesh().node(1).engine.shutdown();

    for (let k = 0; k < 40; k++) await mesh().node(0).store.put(`missed/${k}`, Buffer.from(`v${k}`));
    // Trim everything: the 40 entries node-1 never read are gone from the stream.
    await mesh().node(0).store.client.xtrim(`${mesh().node(0).prefix}cdc`, 'MAXLEN', 0);

    const engine = new ReplicationEngine(mesh().node(1).config, { store: mesh().node(1).store });
    mesh().node(1).engine = engine;
    await engine.start();
    await waitFor(async () => (await metricValue(engine, 'replication_stream_gaps_total', { peer_id: 'node-0', kind: 'trimmed' })) === 1, {
      what: 'a trimmed gap counted',
    });
    // Periodic repair is off in this mesh(): only the gap can have triggered this repair.
    for (let k = 0; k < 40; k++) {
      await waitFor(() => mesh().node(1).store.get(`missed/${k}`), { what: `missed/${k} on node-1 (repaired)` });
    }
    expect(await metricValue(engine, 'replication_repair_cycles_total', { peer_id: 'node-0' })).toBeGreaterThanOrEqual(1);
    expect(await mesh().node(1).store.merkleRoot()).toBe(await mesh().node(0).store.merkleRoot());
  });
});
