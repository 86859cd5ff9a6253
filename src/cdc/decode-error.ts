/**
 * Why a CDC stream entry was rejected (docs/wire-format.md). A rejected entry is counted in a
 * metric labelled with its reason, logged with its entry id and skipped: it never stalls
 * the stream. The reasons are a closed set so the metric's label cardinality is fixed.
 */
import { ReplicationError } from '../errors.js';

export const CDC_REJECT_REASONS = [
  /** A required field (`op`, `key`, and for PUT `hash`, `data`, `meta`) is absent, or the field list is not name/value pairs. */
  'missing_field',
  /** `op` is neither `PUT` nor `DEL`. */
  'unknown_op',
  /** `key` is not valid UTF-8, is empty, or is longer than 1024 bytes. */
  'bad_key',
  /** `hash` is not 64 lowercase hex digits, or is not the SHA-256 of the content. */
  'bad_hash',
  /** `data` starts with the zstd magic but is not a valid, complete zstd frame. */
  'bad_zstd',
  /** The content is (or would decompress to) more than `max_payload_bytes`. */
  'too_large',
  /** `meta` is not a JSON object, or a field in it has the wrong type or value. */
  'bad_meta',
  /** The stamp is unusable: bad `hlc`/`origin`, only one of them, or none and no peer id to derive one from. */
  'bad_stamp',
  /** The stream entry id is not `ms-seq`. */
  'bad_entry_id',
] as const;

export type CdcRejectReason = (typeof CDC_REJECT_REASONS)[number];

export class CdcDecodeError extends ReplicationError {
  readonly reason: CdcRejectReason;
  /** The stream entry id as given (possibly malformed), or '' when decoding outside an entry. */
  readonly entryId: string;

  constructor(reason: CdcRejectReason, entryId: string, message: string, options?: { cause?: unknown }) {
    super(`cdc_${reason}`, entryId === '' ? message : `entry ${entryId}: ${message}`, options);
    this.reason = reason;
    this.entryId = entryId;
  }
}
