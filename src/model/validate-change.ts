/**
 * What a valid change is (docs/architecture.md): every field in its shape and range, the content
 * within the payload limit. The CDC writer refuses an invalid change with it; the store adds its
 * own size rule (store/validate-change.ts) before a batch is sent to Redis.
 */
import { isSha256Hex } from './content-hash.js';
import { ValidationError } from '../errors.js';
import { CONTENT_TYPES, type Change, type ContentType } from './change.js';
import { hlcProblem, isHlc } from './hlc.js';
import { assertValidKey } from './key.js';
import { isNodeId } from './node-id.js';
import { isTraceParent } from './trace-parent.js';

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
}
