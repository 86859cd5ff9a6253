/**
 * A change is one PUT or DEL with its stamp (docs/architecture.md). It is what the CDC codec
 * decodes, what the hot and cold paths feed to `LocalStore.applyChanges`, and what the
 * store re-emits to its own stream.
 */
import type { Stamp } from './stamp.js';

export type ContentType = 'json' | 'binary';
export const CONTENT_TYPES: readonly ContentType[] = ['json', 'binary'];

export interface PutChange extends Stamp {
  op: 'PUT';
  key: string;
  /** Uncompressed content. */
  content: Buffer;
  /** Lowercase hex SHA-256 of `content`. */
  hash: string;
  contentType: ContentType;
  version: number;
  updatedAt: number;
  traceParent?: string;
  /**
   * The `data` field exactly as it travels on the wire (zstd or raw), when the change came
   * from a stream: re-emitting reuses it instead of compressing again.
   */
  wireData?: Buffer;
}

export interface DelChange extends Stamp {
  op: 'DEL';
  key: string;
  updatedAt: number;
  traceParent?: string;
}

export type Change = PutChange | DelChange;

/**
 * A change as read from a CDC stream: the entry id travels with it, and whether the entry's
 * trace_parent was invalid and dropped (counted by the hot path).
 */
export type CdcEntry = Change & { id: string; traceParentDropped?: true };
