// A configured peer that is this node itself under another address (a host alias) is recognised by
// the node id its store carries, and never replicated from.
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import { RedisStore } from '../../../src/store/redis-store.js';
import { TEST_SETTINGS, metricValue } from '../../support/mesh.js';
import { useRedis } from '../../support/use-redis.js';
import { waitFor } from '../../support/wait.js';

describe('a peer that is this node under a host alias', () => {
  const redis = useRedis();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-identity-'));
  let store: RedisStore;
  let engine: ReplicationEngine;
  beforeAll(async () => {
    store = await RedisStore.connect({ url: redis().url, prefix: 'self:', nodeId: 'node-a' });
    const config = parseConfig({
      local_node_id: 'node-a',
      local: { redis_url: redis().url, redis_prefix: 'self:' },
      // 127.1 is 127.0.0.1: the same store under a URL the configuration rules cannot match.
      peers: [{ node_id: 'node-b', redis_url: `redis://127.1:${redis().port}`, redis_prefix: 'self:' }],
      settings: TEST_SETTINGS,
      cursor: { sqlite_path: path.join(tmp, 'cursors.db') },
    });
    engine = new ReplicationEngine(config, { store });
    await engine.start();
  });
  afterAll(async () => {
    await engine?.shutdown();
    await store?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is refused by its store owner id: reported in status, no hot path, no repair', async () => {
    const peer = await waitFor(() => engine.status().peers.find((p) => p.peer_id === 'node-b' && p.last_error?.startsWith('self_loop')), {
      what: 'node-b reported as a self loop',
    });
    expect(peer.last_error).toContain("node-b's store");
    await store.put('k', Buffer.from('v'));
    const outcomes = await engine.repairNow('node-b');
    expect(outcomes.map((o) => o.result)).toEqual(['skipped']);
    expect(await metricValue(engine, 'replication_cdc_events_read_total', { peer_id: 'node-b' })).toBe(0);
  });
});
