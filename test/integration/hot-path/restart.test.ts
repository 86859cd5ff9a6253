// Crash-safe cursors: a restarted engine resumes where it left off; without its cursor file it replays
// everything, and the replay changes nothing (at-least-once delivery, exactly-once effect).
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import { metricValue, streamHead } from '../../support/mesh.js';
import { waitFor } from '../../support/wait.js';
import { useMesh } from '../../support/use-mesh.js';

const BATCH = 100;

describe('hot path: restart from cursors', () => {
  const mesh = useMesh({ nodes: 2, settings: { hot_path: { batch_size: BATCH } } });

  async function restartNode1(): Promise<ReplicationEngine> {
    const n = mesh().node(1);
    await n.engine.shutdown();
    n.engine = new ReplicationEngine(n.config, { store: n.store });
    return n.engine;
  }

  it('resumes from the saved cursor: nothing before it is read or applied again', async () => {
    const first = 250;
    for (let k = 0; k < first; k++) await mesh().node(0).store.put(`a/${k}`, Buffer.from(`v${k}`));
    await waitFor(async () => (await mesh().node(1).store.keyCount()) === first, { what: 'first writes on node-1' });
    const saved = await streamHead(mesh().node(0));
    await waitFor(() => mesh().node(1).engine.status().peers[0]!.cursor === saved, { what: 'cursor at the stream head' });

    // Stopped: writes pile up on node-0.
    await mesh().node(1).engine.shutdown();
    const second = 120;
    for (let k = 0; k < second; k++) await mesh().node(0).store.put(`b/${k}`, Buffer.from(`v${k}`));

    const engine = new ReplicationEngine(mesh().node(1).config, { store: mesh().node(1).store });
    mesh().node(1).engine = engine;
    expect(engine.status().peers).toEqual([]); // not started yet
    await engine.start();
    expect(engine.status().peers[0]!.cursor).toBe(saved);
    await waitFor(async () => (await mesh().node(1).store.keyCount()) === first + second, { what: 'second writes on node-1' });
    // The new engine read only what came after the cursor (at most one batch more, never the first 250).
    expect(await metricValue(engine, 'replication_cdc_events_read_total', { peer_id: 'node-0' })).toBeLessThanOrEqual(second + BATCH);
    expect(await metricValue(engine, 'replication_cdc_events_applied_total', { peer_id: 'node-0' })).toBe(second);
  });

  it('after its cursor file is deleted it replays the whole stream and changes nothing', async () => {
    const rootBefore = await mesh().node(1).store.merkleRoot();
    const keysBefore = await mesh().node(1).store.keyCount();
    await mesh().node(1).engine.shutdown();
    for (const suffix of ['', '-wal', '-shm']) rmSync(mesh().node(1).cursorPath + suffix, { force: true });
    const engine = await restartNode1();
    await engine.start();
    expect(engine.status().peers[0]!.cursor).toBe('0-0');
    const streamLength = await mesh().node(0).store.client.xlen(`${mesh().node(0).prefix}cdc`);
    await waitFor(async () => (await metricValue(engine, 'replication_cdc_events_read_total', { peer_id: 'node-0' })) >= streamLength, {
      what: 'the whole node-0 stream replayed',
    });
    expect(await metricValue(engine, 'replication_cdc_events_applied_total')).toBe(0);
    expect(await metricValue(engine, 'replication_cdc_events_deduped_total', { reason: 'duplicate' })).toBeGreaterThan(0);
    expect(await mesh().node(1).store.merkleRoot()).toBe(rootBefore);
    expect(await mesh().node(1).store.keyCount()).toBe(keysBefore);
  });

  it('shutdown persists the cursor of the batch in flight', async () => {
    const engine = mesh().node(1).engine;
    for (let k = 0; k < 50; k++) await mesh().node(0).store.put(`c/${k}`, Buffer.from('x'));
    await waitFor(async () => (await mesh().node(1).store.get('c/49')) !== null, { what: 'c/49 on node-1' });
    const lastId = await streamHead(mesh().node(0));
    await waitFor(() => engine.status().peers[0]!.cursor === lastId, { what: 'cursor at the stream head' });
    await engine.shutdown();
    expect(engine.state).toBe('stopped');
    const reopened = await restartNode1();
    await reopened.start();
    expect(reopened.status().peers[0]!.cursor).toBe(lastId);
  });
});
