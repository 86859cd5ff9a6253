/**
 * The Redis key layout of a store, built in one place (docs/wire-format.md).
 * The Lua scripts build the same names in store/commands/includes/keys.lua; the integration tests
 * read through these builders what the scripts wrote, so the two cannot drift silently.
 *
 * Under the node's prefix P:
 *   P r:<key>        string: the record's content, then its trace parent's 26 bytes when it has
 *                    one (absent for a tombstone; metadata is in its leaf)
 *   P cdc            the CDC stream
 *   P m:meta         hash: clock (last HLC), store format marker, root digest, live key count
 *   P m:origins      hash: the origin table (node id ↔ 3-byte id; leaves name origins by id)
 *   P m:kx           sorted set (lex): the first key of every page of live keys but the first
 *   P m:kp:<first>   sorted set (lex): a page of live keys, from <first> (the first page's is '')
 *   P m:kt           a page being rebuilt, only inside a script
 *   P m:tombs        sorted set of tombstoned keys scored by their HLC milliseconds (GC)
 *   P t:br           hash: branch id → branch digest (20 bytes)
 *   P t:lf:<bucket>  hash: key → leaf (binary: leaf.ts), and field "" → the bucket's digest
 * User keys only ever appear after `r:` (or as members/fields inside engine keys), so
 * no user key can collide with an engine key.
 */
export class StoreKeys {
  readonly prefix: string;
  readonly stream: string;
  readonly meta: string;
  readonly origins: string;
  readonly pageIndex: string;
  readonly tombstones: string;
  /** Store format v3's sorted set of live keys; exists only until migrate-v3.lua has converted the store. */
  readonly v3LiveKeys: string;
  readonly branches: string;
  /** Tree format v2's bucket hash; exists only until migrate-v2.lua has converted the store. */
  readonly v2Buckets: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.stream = `${prefix}cdc`;
    this.meta = `${prefix}m:meta`;
    this.origins = `${prefix}m:origins`;
    this.pageIndex = `${prefix}m:kx`;
    this.v3LiveKeys = `${prefix}m:keys`;
    this.tombstones = `${prefix}m:tombs`;
    this.branches = `${prefix}t:br`;
    this.v2Buckets = `${prefix}t:bk`;
  }

  record(key: string): string {
    return `${this.prefix}r:${key}`;
  }

  /** The page of live keys whose first key is `first` ('' for the first page). */
  page(first: string): string {
    return `${this.prefix}m:kp:${first}`;
  }

  leaves(bucket: string): string {
    return `${this.prefix}t:lf:${bucket}`;
  }
}

/** The field of a leaves hash that holds the bucket's digest (20 bytes); no user key is empty. */
export const BUCKET_DIGEST_FIELD = '';

/** Fields of the `m:meta` hash. */
export const META_FIELDS = {
  clock: 'hlc', format: 'format', root: 'root', incarnation: 'incarnation',
  /** Advanced by every data check (RedisStore.checkData): lower than last seen = data went back in time. */
  epoch: 'epoch',
  /** The node id of the engine that owns the store: how a peer tells that a configured peer is itself. */
  owner: 'node_id',
  /** The number of live keys (commands/includes/indexes.lua). */
  liveCount: 'live',
  /** Next branch to convert while a v2 store is migrated (commands/migrate-v2.lua). */
  migration: 'migrating_v3',
  /** Next branch to convert while a v3 store is migrated (commands/migrate-v3.lua). */
  migrationV4: 'migrating_v4',
} as const;
