import crypto from 'node:crypto';

/**
 * `crypto.hash` (Node ≥ 20.12) hashes in one native call, without a Hash object per call: it
 * roughly halves the cost for the small contents every hot-path entry carries.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

/** Lowercase hex SHA-256: the `hash` of a record and of a CDC PUT entry (DESIGN §3–4). */
export function sha256Hex(content: Uint8Array): string {
  return oneShot ? oneShot('sha256', content, 'hex') : crypto.createHash('sha256').update(content).digest('hex');
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}
