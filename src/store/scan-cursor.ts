/**
 * The list cursor: opaque to clients, but checkable by the store, so a string it never produced
 * is refused (`invalid_cursor`) instead of silently starting a page at some arbitrary key.
 * Layout, base64url without padding: version byte 1 · last key (UTF-8) · CRC-32 of both.
 * Not a secret (anyone can make one for a key they name); the check catches corrupted,
 * truncated and made-up cursors, not forged ones, and a forged one only names a start key.
 */
import { crc32 } from 'node:zlib';
import { ValidationError } from '../errors.js';
import { decodeKeyBytes } from '../model/key.js';

const VERSION = 1;
const CRC_BYTES = 4;

export function encodeScanCursor(lastKey: string): string {
  const body = Buffer.concat([Buffer.from([VERSION]), Buffer.from(lastKey, 'utf8')]);
  const crc = Buffer.alloc(CRC_BYTES);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([body, crc]).toString('base64url');
}

/** The last key of the previous page; throws `invalid_cursor` for anything encodeScanCursor did not make. */
export function decodeScanCursor(cursor: string): string {
  const raw = Buffer.from(cursor, 'base64url');
  // Node's base64url decoding skips bad characters and ignores stray bits: only a canonical encoding counts.
  if (raw.length < 1 + 1 + CRC_BYTES || raw.toString('base64url') !== cursor || raw[0] !== VERSION) throw invalid();
  const body = raw.subarray(0, raw.length - CRC_BYTES);
  if (raw.readUInt32BE(raw.length - CRC_BYTES) !== crc32(body)) throw invalid();
  try {
    return decodeKeyBytes(body.subarray(1), 'cursor');
  } catch {
    throw invalid();
  }
}

function invalid(): ValidationError {
  return new ValidationError('invalid_cursor', 'cursor', 'is not a cursor returned by this API');
}
