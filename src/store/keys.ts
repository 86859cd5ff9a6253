/**
 * The Redis key layout of a store, built in one place (docs/wire-format.md).
 * The Lua scripts build the same names in store/commands/includes/keys.lua; the integration tests
 * read through these builders what the scripts wrote, so the two cannot drift silently.
 *
 * Under the node's prefix P:
 *   P r:<key>        string: the record's content (absent for a tombstone; metadata is in its leaf)
 *   P cdc            the CDC stream
 *   P m:meta         hash: clock (last HLC), tree format marker, root digest
 *   P m:keys         sorted set (lex) of live keys: scan and key count
 *   P m:tombs        sorted set of tombstoned keys scored by their HLC milliseconds (GC)
 *   P t:br           hash: branch id → branch digest (40 hex digits)
 *   P t:lf:<bucket>  hash: key → leaf (digest + stamp), and field "" → the bucket's digest
 * User keys only ever appear after `r:` (or as members/fields inside engine keys), so
 * no user key can collide with an engine key.
 */
export class StoreKeys {
  readonly prefix: string;
  readonly stream: string;
  readonly meta: string;
  readonly liveKeys: string;
  readonly tombstones: string;
  readonly branches: string;
  /** Tree format v2's bucket hash; exists only until migrate-v2.lua has converted the store. */
  readonly v2Buckets: string;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.stream = `${prefix}cdc`;
    this.meta = `${prefix}m:meta`;
    this.liveKeys = `${prefix}m:keys`;
    this.tombstones = `${prefix}m:tombs`;
    this.branches = `${prefix}t:br`;
    this.v2Buckets = `${prefix}t:bk`;
  }

  record(key: string): string {
    return `${this.prefix}r:${key}`;
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
  /** Next branch to convert while a v2 store is migrated (commands/migrate-v2.lua). */
  migration: 'migrating_v3',
} as const;
