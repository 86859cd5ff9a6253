// A change's leaf exactly as the store keeps it (src/store/leaf.ts: the origin id, then what the
// engine sends apply.lua), and a way to plant one in a store the way its scripts would.
import type { Redis } from 'ioredis';
import type { Change } from '../../src/model/change.js';
import type { StoreKeys } from '../../src/store/keys.js';
import { ORIGIN_ID_BYTES, leafWithoutOrigin } from '../../src/store/leaf.js';

export function storedLeaf(c: Change, originId: number): Buffer {
  const id = Buffer.alloc(ORIGIN_ID_BYTES);
  id.writeUIntBE(originId, 0, ORIGIN_ID_BYTES);
  return Buffer.concat([id, leafWithoutOrigin(c)]);
}

/** The id of `origin` in the store's origin table, given out as origins.lua would if it has none. */
export async function originIdOf(redis: Redis, keys: StoreKeys, origin: string): Promise<number> {
  const known = await redis.hgetBuffer(keys.origins, origin);
  if (known) return known.readUIntBE(0, ORIGIN_ID_BYTES);
  const n = await redis.hincrby(keys.origins, '\0', 1);
  const id = Buffer.alloc(ORIGIN_ID_BYTES);
  id.writeUIntBE(n, 0, ORIGIN_ID_BYTES);
  await redis.hset(keys.origins, origin, id, Buffer.concat([Buffer.from([0]), id]), origin);
  return n;
}

/** `c`'s leaf as the store would keep it, its origin registered in the store's origin table. */
export async function leafFor(redis: Redis, keys: StoreKeys, c: Change): Promise<Buffer> {
  return storedLeaf(c, await originIdOf(redis, keys, c.origin));
}
