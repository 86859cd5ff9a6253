import crypto from 'node:crypto';

/**
 * `crypto.hash` (Node ≥ 20.12) hashes in one native call, without a Hash object per call: it
 * roughly halves the cost for the small contents every hot-path entry carries.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

/** Lowercase hex SHA-256: the `hash` of a record and of a CDC PUT entry (docs/architecture.md). */
export function sha256Hex(content: Uint8Array): string {
  return oneShot ? oneShot('sha256', content, 'hex') : crypto.createHash('sha256').update(content).digest('hex');
}

const SHA256_HEX_LENGTH = 64;
/** 1 at the char codes of 0-9 and a-f. */
const LOWER_HEX = new Uint8Array(128);
for (const ch of '0123456789abcdef') LOWER_HEX[ch.charCodeAt(0)] = 1;

/**
 * 64 lowercase hex digits. A table lookup per character rather than /^[0-9a-f]{64}$/: it runs
 * three times per hot-path entry, and is about three times faster (BENCHMARKS.md).
 */
export function isSha256Hex(value: string): boolean {
  if (value.length !== SHA256_HEX_LENGTH) return false;
  for (let i = 0; i < SHA256_HEX_LENGTH; i++) if (LOWER_HEX[value.charCodeAt(i)] !== 1) return false;
  return true;
}
