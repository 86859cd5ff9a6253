/**
 * A store's Redis is input (a peer's, or a corrupted one): a leaf that is not in v4's format, or that
 * names an origin id its table lacks, makes the read fail with a typed error naming it, never a crash
 * or a guess; a full origin table refuses a call before it writes anything.
 */
import { describe, expect, it } from 'vitest';
import { useRedis, useRedisClient } from '../../support/use-redis.js';
import { openStore } from '../../support/store-fixtures.js';
import { putChange } from '../../support/changes.js';
import { storedLeaf } from '../../support/leaf.js';
import { bucketOf } from '../../../src/merkle/tree-shape.js';

const redis = useRedis();
const raw = useRedisClient(redis);

describe('a store whose Redis holds what v4 never writes', () => {
  it('refuses a leaf that is not a v4 leaf, naming its key, on every read', async () => {
    const store = await openStore(redis().url, { nodeId: 'n' });
    try {
      await store.put('k', Buffer.from('v'));
      await raw().hset(store.keys.leaves(bucketOf('k')), 'k', 'garbage');
      await expect(store.bucketLeaves([bucketOf('k')])).rejects.toMatchObject({ code: 'bad_leaf' });
      await expect(store.get('k')).rejects.toMatchObject({ code: 'bad_leaf' });
      await expect(store.fetchChanges(['k'])).rejects.toMatchObject({ code: 'bad_leaf' });
    } finally {
      await store.close();
    }
  });

  it('refuses a leaf whose origin id the table lacks, naming the id, on every read', async () => {
    const store = await openStore(redis().url, { nodeId: 'n' });
    try {
      await store.put('k', Buffer.from('v'));
      await raw().hset(store.keys.leaves(bucketOf('k')), 'k', storedLeaf(putChange('k', 'v', 1_700_000_000_000, 'ghost'), 999));
      const named = { code: 'bad_leaf', message: expect.stringContaining('0003e7') };
      await expect(store.bucketLeaves([bucketOf('k')])).rejects.toMatchObject(named);
      await expect(store.get('k')).rejects.toMatchObject(named);
    } finally {
      await store.close();
    }
  });

  it('refuses a whole call when the origin table has no id left, before writing anything', async () => {
    const store = await openStore(redis().url, { nodeId: 'n' });
    try {
      await store.applyChanges([putChange('known', 'v', 1_700_000_000_000, 'paris')]);
      await raw().hset(store.keys.origins, '\0', 16_777_215);
      const root = await store.merkleRoot();
      await expect(store.applyChanges([putChange('a', 'v', 1_700_000_000_001, 'paris'), putChange('b', 'v', 1_700_000_000_001, 'newcomer')]))
        .rejects.toMatchObject({ code: 'origin_table_full', message: expect.stringContaining('newcomer') });
      expect(await store.merkleRoot()).toBe(root);
      expect(await store.get('a')).toBeNull();
      // Origins that have their id still apply.
      expect(await store.applyChanges([putChange('a', 'v', 1_700_000_000_002, 'paris')])).toEqual(['applied']);
    } finally {
      await store.close();
    }
  });
});
