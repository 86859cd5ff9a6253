/**
 * The Merkle tree's fixed shape over key hashes (docs/cold-path.md), as pure functions.
 * 256 branches × 256 buckets: a key's bucket is the first 4 hex digits of SHA-1(key),
 * its branch the first 2. Digests are SHA-1 (what Redis Lua offers: redis.sha1hex),
 * combined by XOR (TicTac AAE): a write changes its leaf, bucket, branch and root in
 * O(1) each, and equal leaf sets give equal roots whatever the write order.
 *
 * store/commands/includes/ (leaf.lua, tree.lua) compute the same things inside Redis; the property tests
 * check that the root Redis keeps equals `rootOf` over the same leaves.
 */
import { hash } from 'node:crypto';
import type { LeafStamp } from '../model/stamp.js';

/**
 * Recorded in the store; the cold path refuses a peer whose marker differs. The tree's shape and
 * digests are those of v2 and v3: what changed is how a store keeps its leaves (docs/wire-format.md).
 */
export const TREE_FORMAT = 'tictac/v4;sha1-xor;branches=256;buckets=256';
/** Earlier layouts, which RedisStore.connect migrates in place (store/commands/migrate-v3.lua, migrate-v2.lua). */
export const TREE_FORMAT_V3 = 'tictac/v3;sha1-xor;branches=256;buckets=256';
export const TREE_FORMAT_V2 = 'tictac/v2;sha1-xor;branches=256;buckets=256';
export const DIGEST_BYTES = 20;
export const DIGEST_HEX_LENGTH = 2 * DIGEST_BYTES;
export const ZERO_DIGEST = '0'.repeat(DIGEST_HEX_LENGTH);

export function bucketOf(key: string): string {
  return hash('sha1', key, 'hex').slice(0, 4);
}

export function branchOfBucket(bucket: string): string {
  return bucket.slice(0, 2);
}

/** Every branch id, in order: '00' … 'ff'. */
export const ALL_BRANCHES: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The 256 bucket ids of a branch, in order. */
export function bucketsOfBranch(branch: string): string[] {
  return ALL_BRANCHES.map((suffix) => `${branch}${suffix}`);
}

/** Leaf digest = SHA-1 over an unambiguous encoding of (key, hlc, origin, content hash, tombstone flag), as hex. */
export function leafDigest(key: string, leaf: LeafStamp): string {
  // The key's length in bytes first: no two (key, stamp) pairs encode alike. Every other field
  // is ASCII (validated), so one UTF-8 string is the same bytes as concatenating them. Hex, not
  // a Buffer: the hot path writes it straight into its packed arguments, and a Buffer per change
  // would be one more backing store per change for the garbage collector.
  const text = `${Buffer.byteLength(key, 'utf8')}:${key}|${leaf.hlc}|${leaf.origin}|${leaf.hash}|${leaf.deleted ? '1' : '0'}`;
  return hash('sha1', text, 'hex');
}

export function xorDigests(a: string, b: string): string {
  const out = Buffer.alloc(DIGEST_HEX_LENGTH / 2);
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  for (let i = 0; i < out.length; i++) out[i] = (x[i] ?? 0) ^ (y[i] ?? 0);
  return out.toString('hex');
}

/** Root of a set of leaves, computed from scratch (the reference for the incremental tree). */
export function rootOf(leaves: Iterable<[string, LeafStamp]>): string {
  let root = ZERO_DIGEST;
  for (const [key, leaf] of leaves) root = xorDigests(root, leafDigest(key, leaf));
  return root;
}
