import { ReplicationError } from '../errors.js';

/**
 * Per-peer cursor: the last stream entry id whose effects are durably applied locally.
 *
 * Synchronous on purpose: better-sqlite3 is synchronous and a WAL-mode write is
 * sub-millisecond, so an async wrapper would only add scheduling between "batch
 * applied" and "cursor saved".
 */
export interface CursorStore {
  /** The saved stream id, or null when replication from this peer starts from the beginning. */
  get(peerId: string): string | null;
  /** Save after a batch is applied; throws a ValidationError on a malformed stream id. */
  set(peerId: string, streamId: string): void;
  delete(peerId: string): void;
  /** Every saved cursor, peer id → stream id. */
  all(): Map<string, string>;
  close(): void;
  /**
   * Why cursors are not being persisted right now (the file was deleted, replaced or made
   * unwritable, a write failed), or null when the last write and file check succeeded. Optional.
   */
  fault?(): string | null;
  /**
   * A small value the engine keeps beside its cursors (what it last saw of the local store, to tell
   * after a restart that the store went back in time). Optional; null when never saved.
   */
  getState?(name: string): string | null;
  setState?(name: string, value: string): void;
}

/** The cursor file could not be used (I/O, permissions, locked, closed) — not corruption, which is recovered. */
export class CursorStoreError extends ReplicationError {}
