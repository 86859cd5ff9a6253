/**
 * A peer, as the engine sees it (docs/architecture.md): a blocking stream connection for XREAD and a
 * separate query connection for everything else (stream metadata, pings, the cold path's
 * tree reads), so a health check never waits behind a blocking read.
 */
import type { StoreReader } from '../store/local-store.js';

/** What XINFO STREAM says of a peer's CDC stream: what gap detection and lag are computed from. */
export interface StreamInfo {
  length: number;
  /** Id of the newest entry ever added (survives trimming). */
  lastGeneratedId: string;
  /** Greatest id ever deleted or trimmed (Redis ≥ 7.0); null when the server does not say. */
  maxDeletedId: string | null;
  firstEntryId: string | null;
  /** Entries ever added (Redis ≥ 7.0); null when unknown. */
  entriesAdded: number | null;
}

export interface RawStreamEntry {
  id: string;
  fields: Buffer[];
}

export interface PeerConnection {
  readonly peerId: string;
  /** Read-only view of the peer's store through the query connection. */
  readonly reader: StoreReader;
  /** True while both connections are up. */
  readonly connected: boolean;
  /**
   * While a connection is down: why, with the peer's host:port (a refused port, WRONGPASS, a TLS
   * failure). Null while both are up or before any error. What `last_error` shows even when no
   * call has failed yet to say so (a tailer waiting out its backoff or an open circuit).
   */
  readonly downCause: string | null;
  /**
   * XREAD COUNT n BLOCK t after `cursor`; [] when the block timed out without entries. A reply
   * larger than `maxReplyBytes` is dropped: ReplyTooLargeError (reply-guard.ts).
   */
  read(cursor: string, count: number, blockMs: number, maxReplyBytes?: number): Promise<RawStreamEntry[]>;
  /** XINFO STREAM of the peer's CDC stream; null when it has no stream. */
  streamInfo(): Promise<StreamInfo | null>;
  /** Round-trip latency of a PING on the query connection, in seconds. */
  ping(): Promise<number>;
  /** Makes an in-flight blocking read return at once (shutdown, reconfiguration). */
  interruptRead(): void;
  onStateChange(listener: (event: PeerConnectionEvent) => void): void;
  /**
   * `listener` gets the round trip, in seconds, of every call to the peer that succeeded: queries
   * (stream metadata, pings, the cold path's tree and record reads) and the XREADs that Redis
   * answered from entries already there (a full read: it did not block waiting for new ones).
   */
  onLatency(listener: (seconds: number) => void): void;
  close(): Promise<void>;
}

export type PeerConnectionEvent =
  | { type: 'connected' }
  | { type: 'disconnected' }
  | { type: 'reconnecting'; delayMs: number }
  | { type: 'error'; error: Error };
