// The hot path end to end: engines tailing each other's CDC streams on real redis-servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareStamps } from '../../../src/model/stamp.js';
import { Mesh, metricValue, streamHead } from '../../support/mesh.js';
import { waitFor } from '../../support/wait.js';
import { useMesh } from '../../support/use-mesh.js';

describe('hot path: three nodes in a full mesh', () => {
  const mesh = useMesh({ nodes: 3 });

  it('a put on one node appears on the others with the same content and stamp', async () => {
    const written = await mesh().node(0).store.put('patient/1', Buffer.from('{"name":"Ada"}'), { contentType: 'json' });
    for (const i of [1, 2]) {
      const rec = await waitFor(() => mesh().node(i).store.get('patient/1'), { what: `patient/1 on node-${i}` });
      expect(rec.content.toString()).toBe('{"name":"Ada"}');
      expect(rec).toMatchObject({ hash: written.hash, hlc: written.hlc, origin: 'node-0', version: 1, contentType: 'json' });
    }
  });

  it('a delete on one node removes the key everywhere', async () => {
    await mesh().node(1).store.put('to-delete', Buffer.from('x'));
    await waitFor(() => mesh().node(2).store.get('to-delete'), { what: 'to-delete on node-2' });
    await mesh().node(2).store.delete('to-delete');
    for (const i of [0, 1]) {
      await waitFor(async () => (await mesh().node(i).store.get('to-delete')) === null, { what: `to-delete gone on node-${i}` });
    }
  });

  it('concurrent writes to one key on two nodes end with the same winner everywhere', async () => {
    const [a, b] = await Promise.all([
      mesh().node(0).store.put('hot', Buffer.from('from-0')),
      mesh().node(1).store.put('hot', Buffer.from('from-1')),
    ]);
    const winner = compareStamps(a, b) > 0 ? a : b;
    for (const i of [0, 1, 2]) {
      const rec = await waitFor(async () => {
        const r = await mesh().node(i).store.get('hot');
        return r && r.hlc === winner.hlc && r.origin === winner.origin ? r : null;
      }, { what: `the winner of "hot" on node-${i}` });
      expect(rec.hash).toBe(winner.hash);
    }
    const roots = await Promise.all(mesh().nodes.map((n) => n.store.merkleRoot()));
    await waitFor(async () => new Set(await Promise.all(mesh().nodes.map((n) => n.store.merkleRoot()))).size === 1, {
      what: `equal roots (last seen ${roots.join(', ')})`,
    });
  });

  it('with emit_replicated on, the streams stop growing once writes stop (no echo loop)', async () => {
    const writes = 30;
    for (let k = 0; k < writes; k++) await mesh().node(k % 3).store.put(`echo/${k}`, Buffer.from(`v${k}`));
    // Quiescent = every tailer's cursor is at the head of the stream it tails. Nothing unread is left
    // anywhere, so nothing more can be applied or re-emitted: the mesh() has gone quiet.
    await waitFor(async () => {
      // Heads read before and after the cursors: an entry emitted in between shows up as a changed head.
      const before = await Promise.all(mesh().nodes.map((n) => streamHead(n)));
      const atHead = mesh().nodes.every((n) => n.engine.status().peers.every((p) => p.cursor === before[Number(p.peer_id.slice(5))]));
      const after = await Promise.all(mesh().nodes.map((n) => streamHead(n)));
      return atHead && before.every((h, i) => h === after[i]);
    }, { what: 'every cursor at the head of its peer stream', timeoutMs: 20_000 });
    // Every distinct change is applied (and so re-emitted) at most once per node: a stream holds at most one
    // entry per change made in this suite (1 + 2 + 2 + 30 = 35). An echo loop would grow without bound.
    const changesMade = 35;
    const lengths = await Promise.all(mesh().nodes.map((n) => n.store.client.xlen(`${n.prefix}cdc`)));
    for (const len of lengths) expect(len).toBeLessThanOrEqual(changesMade);
    // Echoes did come back and were dropped before any I/O.
    for (const node of mesh().nodes) {
      expect(await metricValue(node.engine, 'replication_cdc_events_deduped_total', { reason: 'own_origin' })).toBeGreaterThan(0);
    }
  });
  it('a change arriving again, re-emitted by the other peer, is dropped without touching the store', async () => {
    const node2 = mesh().node(2);
    const before = {
      applied: await metricValue(node2.engine, 'replication_cdc_events_applied_total'),
      seen: await metricValue(node2.engine, 'replication_cdc_events_deduped_total', { reason: 'seen' }),
      duplicate: await metricValue(node2.engine, 'replication_cdc_events_deduped_total', { reason: 'duplicate' }),
    };
    const writes = 40;
    for (let k = 0; k < writes; k++) await mesh().node(0).store.put(`copies/${k}`, Buffer.from(`v${k}`));
    // node-2 gets each change twice: from node-0, and re-emitted by node-1. It applies one copy; the
    // other is dropped from its meta ('seen'), or — when both copies were read before either was
    // applied — refused by the store as a duplicate.
    const count = async (reason: string): Promise<number> => metricValue(node2.engine, 'replication_cdc_events_deduped_total', { reason });
    const applied = async (): Promise<number> => (await metricValue(node2.engine, 'replication_cdc_events_applied_total')) - before.applied;
    await waitFor(async () => (await applied()) >= writes && (await count('seen')) - before.seen + (await count('duplicate')) - before.duplicate >= writes, {
      what: 'both copies of every change handled on node-2',
    });
    expect(await applied()).toBe(writes);
    expect((await count('seen')) - before.seen + (await count('duplicate')) - before.duplicate).toBe(writes);
    expect(await count('seen')).toBeGreaterThan(before.seen);
  });
});

describe('hot path: a chain topology relays through the middle node', () => {
  let mesh: Mesh;
  beforeAll(async () => {
    // 0 ↔ 1 ↔ 2: node-0 and node-2 do not tail each other.
    mesh = await Mesh.start({ nodes: 3, link: (a, b) => Math.abs(a - b) === 1 });
  });
  afterAll(async () => {
    await mesh?.stop();
  });

  it('a change made on one end reaches the other end through re-emission, keeping its stamp', async () => {
    const w = await mesh.node(0).store.put('relay', Buffer.from('through the middle'));
    const rec = await waitFor(() => mesh.node(2).store.get('relay'), { what: 'relay on node-2' });
    expect(rec).toMatchObject({ hlc: w.hlc, origin: 'node-0', hash: w.hash });
    const back = await mesh.node(2).store.put('relay-back', Buffer.from('and back'));
    const rec0 = await waitFor(() => mesh.node(0).store.get('relay-back'), { what: 'relay-back on node-0' });
    expect(rec0).toMatchObject({ hlc: back.hlc, origin: 'node-2' });
  });
});
