/**
 * A leaf as the store keeps it in its bucket's leaves hash (docs/wire-format.md): the leaf digest
 * (20 bytes), then "<hlc> <0|1> <hash> <origin> <content_type> <version> <updated_at>
 * <trace_parent>" — the stamp the cold path compares and the record's metadata. The Lua side
 * (commands/includes/leaf.lua: leaf_value, parse_leaf) reads and writes the same bytes.
 */
import { ReplicationError } from '../errors.js';
import { CONTENT_TYPES, type Change, type ContentType } from '../model/change.js';
import { isHlcShape } from '../model/hlc.js';
import { isTraceParent } from '../model/trace-parent.js';
import { DIGEST_BYTES, leafDigest } from '../merkle/tree-shape.js';
import type { LeafStamp } from './local-store.js';

/** A leaf as stored: the stamp the cold path compares, and the metadata of the record. */
export interface StoredLeaf {
  stamp: LeafStamp;
  contentType: ContentType;
  version: number;
  updatedAt: number;
  traceParent: string;
}

/**
 * A stored leaf: its digest (20 bytes), then "<hlc> <0|1> <hash> <origin> <content_type>
 * <version> <updated_at> <trace_parent>" (docs/wire-format.md). A value without that shape is
 * reported, not guessed at: a peer's store is input. The stamp is checked for its shape only: a
 * stamp beyond the range (an older version let it in) still compares, so the cold path can go on
 * with the rest of the tree; applying it is refused like any out-of-range change.
 */
export function parseLeaf(raw: Buffer, key: string): StoredLeaf {
  const parts = raw.toString('latin1', DIGEST_BYTES).split(' ');
  const [hlc = '', deleted, hash = '', origin = '', contentType = '', version = '', updatedAt = '', traceParent = ''] = parts;
  const live = deleted === '0';
  if (parts.length !== 8 || (!live && deleted !== '1') || !isHlcShape(hlc) || origin === '' || !/^\d+$/.test(version) || !/^\d+$/.test(updatedAt)
    || (live && !CONTENT_TYPES.includes(contentType as ContentType))) {
    throw new ReplicationError('bad_leaf', `leaf of key ${JSON.stringify(key)} is not in tree format v3`);
  }
  return {
    stamp: { hlc, origin, hash, deleted: !live },
    contentType: (live ? contentType : 'binary') as ContentType,
    version: Number(version),
    updatedAt: Number(updatedAt),
    traceParent,
  };
}

/**
 * A change's leaf in its two parts: the digest (40 hex digits; stored as its 20 bytes) and the
 * text (ASCII: every field is validated). commands/apply-args.ts writes them, digest first, into
 * the script's arguments. A DEL's version is written as 0 (apply.lua fills in the deleted
 * record's, which only the store knows).
 */
export function leafParts(c: Change): { digestHex: string; text: string } {
  const deleted = c.op === 'DEL';
  const hash = deleted ? '' : c.hash;
  const digestHex = leafDigest(c.key, { hlc: c.hlc, origin: c.origin, hash, deleted });
  const text = deleted
    ? `${c.hlc} 1  ${c.origin}  0 ${c.updatedAt} `
    : `${c.hlc} 0 ${hash} ${c.origin} ${c.contentType} ${c.version} ${c.updatedAt} ${c.traceParent ?? ''}`;
  return { digestHex, text };
}

/**
 * A record as a change, from its leaf and (live records) its content. A trace parent that is not
 * a valid W3C traceparent (a peer's store is input) is left out, as W3C says an invalid one is
 * ignored: the change itself is still good.
 */
export function leafToChange(key: string, leaf: StoredLeaf, content: Buffer | null): Change {
  const { hlc, origin, hash, deleted } = leaf.stamp;
  if (deleted) return { op: 'DEL', key, hlc, origin, updatedAt: leaf.updatedAt };
  return {
    op: 'PUT',
    key,
    hlc,
    origin,
    updatedAt: leaf.updatedAt,
    content: content ?? Buffer.alloc(0),
    hash,
    contentType: leaf.contentType,
    version: leaf.version,
    ...(leaf.traceParent && isTraceParent(leaf.traceParent) ? { traceParent: leaf.traceParent } : {}),
  };
}
