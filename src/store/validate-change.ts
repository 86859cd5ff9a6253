/**
 * What the store accepts as a replicated change (docs/architecture.md): checked before a batch is sent to
 * Redis, so a bad change changes nothing. The hot path runs the same check per entry after
 * decoding, so one bad entry is rejected alone instead of failing (and stalling) its batch.
 */
import { isSha256Hex } from '../cdc/content-hash.js';
import { ValidationError } from '../errors.js';
import { CONTENT_TYPES, type Change, type ContentType } from '../model/change.js';
import { hlcProblem, isHlc } from '../model/hlc.js';
import { assertValidKey } from '../model/key.js';
import { isNodeId } from '../model/node-id.js';
import { isTraceParent } from '../model/trace-parent.js';
import { MAX_APPLY_BYTES_LIMIT, packedSizeOf } from './commands/apply-chunks.js';

/** Throws a ValidationError naming `field` (e.g. "changes[3]") and the offending part. */
export function assertValidChange(c: Change, field: string, maxPayloadBytes: number): void {
  assertValidKey(c.key, `${field}.key`);
  if (!isHlc(c.hlc)) throw new ValidationError('invalid_change', `${field}.hlc`, hlcProblem(c.hlc));
  if (!isNodeId(c.origin)) throw new ValidationError('invalid_change', `${field}.origin`, `"${c.origin}" is not a node id`);
  if (!Number.isSafeInteger(c.updatedAt) || c.updatedAt < 0) {
    throw new ValidationError('invalid_change', `${field}.updatedAt`, 'must be a non-negative integer');
  }
  if (c.op === 'DEL') return;
  if (c.op !== 'PUT') throw new ValidationError('invalid_change', `${field}.op`, 'must be PUT or DEL');
  if (c.content.length > maxPayloadBytes) {
    throw new ValidationError('payload_too_large', `${field}.content`, `is ${c.content.length} bytes; the limit is ${maxPayloadBytes}`);
  }
  if (!CONTENT_TYPES.includes(c.contentType as ContentType)) {
    throw new ValidationError('invalid_change', `${field}.contentType`, `must be one of ${CONTENT_TYPES.join(', ')}`);
  }
  if (!isSha256Hex(c.hash)) throw new ValidationError('invalid_change', `${field}.hash`, 'must be lowercase hex SHA-256');
  if (!Number.isSafeInteger(c.version) || c.version < 0) {
    throw new ValidationError('invalid_change', `${field}.version`, 'must be a non-negative integer');
  }
  if (c.traceParent !== undefined && !isTraceParent(c.traceParent)) {
    throw new ValidationError('invalid_change', `${field}.traceParent`, 'is not a W3C traceparent value');
  }
  // Content and wire frame travel together in one Redis argument, refused above this (a content
  // near a max_payload_bytes of 512 MiB): refused here, alone, instead of failing its batch forever.
  const packed = packedSizeOf(c);
  if (packed > MAX_APPLY_BYTES_LIMIT) {
    throw new ValidationError('payload_too_large', field, `content and wire data are ${packed} bytes; one apply call carries at most ${MAX_APPLY_BYTES_LIMIT}`);
  }
}

