/**
 * The pure part of handling one XREAD result: decode every entry (rejecting bad ones with
 * their reason), drop our own echoes and copies of changes the local store already holds,
 * hold back changes stamped too far ahead, flag stamps from runaway clocks, collapse repeats. No I/O, so every rule here is unit-tested
 * without Redis.
 */
import { decodePeerCdcEntry } from '../cdc/codec.js';
import { CdcDecodeError, type CdcRejectReason } from '../cdc/decode-error.js';
import type { CdcEntry } from '../model/change.js';
import { hlcPhysicalMs } from '../model/hlc.js';
import { isTooFarAhead } from '../model/future-stamp.js';
import { collapseByKey } from './collapse.js';
import { assertStorableChange } from '../store/validate-change.js';
import type { RawStreamEntry } from '../peer/peer-connection.js';
import type { Stamp } from '../model/stamp.js';
import { errorMessage } from '../errors.js';

export interface PreparedBatch {
  /**
   * Entries of `raw` this batch covers, from the first: fewer than all when the next would take
   * the batch past PrepareOptions.maxBatchBytes. The rest makes the next batch.
   */
  consumed: number;
  winners: CdcEntry[];
  rejected: { id: string; reason: CdcRejectReason; message: string }[];
  ownOrigin: number;
  /** Copies of changes the local store already holds at that stamp or later (PrepareOptions.seen). */
  seen: number;
  collapsed: number;
  /** Entries whose stamp is more than maxClockSkewMs (but not maxFutureSkewMs) ahead of our wall clock (still applied). */
  skewed: CdcEntry[];
  /**
   * Entries stamped more than maxFutureSkewMs ahead of our wall clock: not applied (and so they
   * do not move the local clock). The cold path brings them once the clock has caught up.
   */
  future: CdcEntry[];
  /** Entries whose invalid trace_parent was dropped (the change itself is applied). */
  traceParentsDropped: number;
}

export interface PrepareOptions {
  peerId: string;
  localNodeId: string;
  maxPayloadBytes: number;
  maxClockSkewMs: number;
  /** store.max_future_skew: see PreparedBatch.future. */
  maxFutureSkewMs: number;
  nowMs: number;
  /**
   * Decoded bytes (content, and wire bytes when they differ) a batch holds at most; a record larger
   * than this goes alone. Default unbounded.
   */
  maxBatchBytes?: number;
  /** True when the local store is known to hold `key` at `stamp` or later (RecentStamps.covers). */
  seen?: (key: string, stamp: Stamp) => boolean;
}

export function prepareBatch(raw: readonly RawStreamEntry[], o: PrepareOptions): PreparedBatch {
  const rejected: PreparedBatch['rejected'] = [];
  const accepted: CdcEntry[] = [];
  let ownOrigin = 0;
  let seen = 0;
  let consumed = 0;
  let decodedBytes = 0;
  const maxBatchBytes = o.maxBatchBytes ?? Number.POSITIVE_INFINITY;
  const decodeOptions = { peerNodeId: o.peerId, maxPayloadBytes: o.maxPayloadBytes, localNodeId: o.localNodeId, ...(o.seen ? { seen: o.seen } : {}) };
  for (const { id, fields } of raw) {
    // Decompression is bounded per entry (max_payload_bytes); this bounds it per batch.
    if (decodedBytes >= maxBatchBytes) break;
    consumed++;
    let entry: ReturnType<typeof decodePeerCdcEntry>;
    try {
      entry = decodePeerCdcEntry(id, fields, decodeOptions);
    } catch (err) {
      const e = err instanceof CdcDecodeError ? err : null;
      rejected.push({ id, reason: e?.reason ?? 'bad_meta', message: errorMessage(err) });
      continue;
    }
    // Our own changes coming back around the mesh (docs/wire-format.md), and copies of changes the store
    // already holds: nothing to do, recognised from their meta alone.
    if (entry === 'own_origin') {
      ownOrigin++;
      continue;
    }
    if (entry === 'seen') {
      seen++;
      continue;
    }
    // The store's own check, per entry: a change it would refuse must not fail the whole batch
    // (a batch that fails is retried forever, which would stall the stream).
    try {
      assertStorableChange(entry, 'entry', o.maxPayloadBytes);
    } catch (err) {
      rejected.push({ id, reason: 'bad_meta', message: errorMessage(err) });
      continue;
    }
    const bytes = entry.op === 'PUT' ? entry.content.length + (entry.wireData === entry.content ? 0 : entry.wireData?.length ?? 0) : 0;
    if (accepted.length > 0 && decodedBytes + bytes > maxBatchBytes) {
      // Left, undecoded again, for the next batch: a batch exceeds the bound only as one record.
      consumed--;
      break;
    }
    accepted.push(entry);
    decodedBytes += bytes;
  }
  // Held back before collapsing: a change we refuse for now must not hide an older one we can apply.
  const future: CdcEntry[] = [];
  const current: CdcEntry[] = [];
  let traceParentsDropped = 0;
  for (const e of accepted) {
    if (e.traceParentDropped) traceParentsDropped++;
    if (isTooFarAhead(e.hlc, o.nowMs, o.maxFutureSkewMs)) future.push(e);
    else current.push(e);
  }
  const skewed = current.filter((e) => hlcPhysicalMs(e.hlc) - o.nowMs > o.maxClockSkewMs);
  const { winners, collapsed } = collapseByKey(current);
  return { consumed, winners, rejected, ownOrigin, seen, collapsed, skewed, future, traceParentsDropped };
}
