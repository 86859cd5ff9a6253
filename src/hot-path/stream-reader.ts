/**
 * One XREAD of a peer's stream, bounded in bytes (docs/hot-path.md, step 4 "Read"): the COUNT is
 * learnt from the entries' sizes (read-sizer.ts), and a reply past the bound is dropped by the
 * stream connection, after which the entries are read one at a time until their sizes are known.
 */
import { zstdCompressBound } from '../cdc/compression.js';
import { compareStreamIds } from '../cdc/stream-id.js';
import type { Logger } from '../observability/logger.js';
import type { ExponentialBackoff } from '../peer/backoff.js';
import type { PeerConnection, RawStreamEntry } from '../peer/peer-connection.js';
import { ReplyTooLargeError } from '../peer/reply-guard.js';
import type { ReadBatch } from './read-ahead.js';
import { ReadSizer } from './read-sizer.js';
import type { Sleeper } from './sleeper.js';
import type { TailerSettings } from './tailer-types.js';

/** Room for an entry's key, hash, meta, field names and RESP framing beyond its data. */
const ENTRY_OVERHEAD_BYTES = 64 * 1024;

export interface StreamReaderDeps {
  peerId: string;
  connection: PeerConnection;
  logger: Logger;
  sleeper: Sleeper;
  retry: ExponentialBackoff;
  now: () => number;
  /** Runs a call to the peer through the circuit breaker; null when it failed (the tailer's). */
  peerCall: <T>(call: () => Promise<T>) => Promise<T | null>;
  /** A read failed in a way the tailer reports in its status. */
  onError: (message: string) => void;
}

export interface StreamReadSettings {
  maxReadBytes: number;
  maxPayloadBytes: number;
  blockTimeoutMs: number;
}

export const readSettingsOf = (settings: TailerSettings): StreamReadSettings =>
  ({ maxReadBytes: settings.hotPath.max_read_bytes, maxPayloadBytes: settings.maxPayloadBytes, blockTimeoutMs: settings.hotPath.block_timeout });

export class StreamReader {
  private readonly sizer: ReadSizer;
  private maxReplyBytes = 0;
  private blockTimeoutMs = 0;

  constructor(private readonly deps: StreamReaderDeps, settings: StreamReadSettings) {
    this.sizer = new ReadSizer(settings.maxReadBytes);
    this.configure(settings);
  }

  /** Takes effect from the next read. */
  configure(settings: StreamReadSettings): void {
    this.sizer.setMaxReadBytes(settings.maxReadBytes);
    this.blockTimeoutMs = settings.blockTimeoutMs;
    // Twice the target (a read sized from earlier entries may meet somewhat larger ones), and
    // never less than the largest valid entry, which must always pass alone.
    this.maxReplyBytes = Math.max(2 * settings.maxReadBytes, zstdCompressBound(settings.maxPayloadBytes) + ENTRY_OVERHEAD_BYTES);
  }

  /** Learns entry sizes from a read's entries (see ReadSizer.observe). */
  observe(entries: readonly RawStreamEntry[]): void {
    this.sizer.observe(entries);
  }

  /** Reads after `from` at most `wanted` entries (fewer if their sizes demand); null when it failed. */
  async read(from: string, wanted: number): Promise<ReadBatch | null> {
    const { connection } = this.deps;
    const requested = this.sizer.limit(wanted);
    const t0 = this.deps.now();
    const raw = await this.deps.peerCall(() => connection.read(from, requested, this.blockTimeoutMs, this.maxReplyBytes)
      .catch((err: unknown) => (err instanceof ReplyTooLargeError ? err : Promise.reject(err))));
    if (raw instanceof ReplyTooLargeError) return this.onReplyTooLarge(from, raw);
    return raw === null ? null : { from, raw, requested, readMs: this.deps.now() - t0 };
  }

  /**
   * A reply past the bound was dropped. Several entries: read one at a time until their sizes are
   * known again. One entry: larger than any valid entry, so skipped as rejected (too_large), by
   * the id the reply's head showed, instead of being read again and again.
   */
  private async onReplyTooLarge(from: string, err: ReplyTooLargeError): Promise<ReadBatch | null> {
    const { peerId, logger } = this.deps;
    if (err.count > 1) {
      this.sizer.shrink();
      logger.warn({ peer_id: peerId, cursor: from, count: err.count, max_reply_bytes: err.bytes }, 'XREAD reply too large: reading one entry at a time');
      return null;
    }
    if (err.firstId !== null && compareStreamIds(err.firstId, from) > 0) {
      const message = `entry is larger than ${err.bytes} bytes, more than any valid entry`;
      return { from, raw: [{ id: err.firstId, fields: [] }], requested: 1, readMs: 0, oversized: { id: err.firstId, message } };
    }
    this.deps.onError(err.message);
    logger.error({ peer_id: peerId, cursor: from, err }, 'XREAD of one entry too large and its id unknown; retrying');
    await this.deps.sleeper.sleep(this.deps.retry.next());
    return null;
  }
}
