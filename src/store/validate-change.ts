/**
 * What the store accepts as a replicated change: a valid change (model/validate-change.ts) that fits
 * one apply call. Checked before a batch is sent to Redis, so a bad change changes nothing. The hot
 * path runs the same check per entry after decoding, so one bad entry is rejected alone instead of
 * failing (and stalling) its batch.
 */
import { ValidationError } from '../errors.js';
import type { Change } from '../model/change.js';
import { assertValidChange } from '../model/validate-change.js';
import { MAX_APPLY_BYTES_LIMIT, packedSizeOf } from './commands/apply-chunks.js';

/** Throws a ValidationError naming `field` (e.g. "changes[3]") and the offending part. */
export function assertStorableChange(c: Change, field: string, maxPayloadBytes: number): void {
  assertValidChange(c, field, maxPayloadBytes);
  // Content and wire frame travel together in one Redis argument, refused above this (a content
  // near a max_payload_bytes of 512 MiB): refused here, alone, instead of failing its batch forever.
  const packed = packedSizeOf(c);
  if (packed > MAX_APPLY_BYTES_LIMIT) {
    throw new ValidationError('payload_too_large', field, `content and wire data are ${packed} bytes; one apply call carries at most ${MAX_APPLY_BYTES_LIMIT}`);
  }
}
