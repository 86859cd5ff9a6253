import { ValidationError } from '../errors.js';

export const MAX_KEY_BYTES = 1024;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

declare const checkedKey: unique symbol;
/** A key that has passed assertValidKey: the type says it need not be checked again. */
export type Key = string & { readonly [checkedKey]: true };

/** A user key: non-empty, valid UTF-8, at most 1024 bytes. Returns the key unchanged. */
export function assertValidKey(key: unknown, field = 'key'): Key {
  if (typeof key !== 'string') throw new ValidationError('invalid_key', field, 'must be a string');
  if (key.length === 0) throw new ValidationError('invalid_key', field, 'must not be empty');
  if (!key.isWellFormed()) throw new ValidationError('invalid_key', field, 'is not valid UTF-8 (lone surrogate)');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new ValidationError('invalid_key', field, `is ${bytes} bytes; the limit is ${MAX_KEY_BYTES}`);
  }
  return key as Key;
}

/** Decodes a key received as bytes (stream entry, peer reply), refusing invalid UTF-8. */
export function decodeKeyBytes(bytes: Buffer, field = 'key'): string {
  let key: string;
  try {
    key = strictUtf8.decode(bytes);
  } catch {
    throw new ValidationError('invalid_key', field, 'is not valid UTF-8');
  }
  return assertValidKey(key, field);
}
