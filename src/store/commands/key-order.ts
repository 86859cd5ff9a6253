/**
 * The order of a call's keys by their UTF-8 bytes, as the scripts' live-key pages are ordered
 * (includes/indexes.lua): the scripts find the pages of keys given in that order with a few
 * lookups per run of adjacent keys, instead of one per key, and compare no strings themselves.
 * Sent as 2-byte big-endian positions (1-based) of the call's keys, each distinct key once (at
 * its first position).
 */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Positions (1-based) of the distinct `keys` in byte order, packed as 2-byte big-endian integers. At most 65,535 keys. */
export function keyByteOrder(keys: readonly string[]): Buffer {
  if (keys.length > 0xffff) throw new RangeError(`keyByteOrder: ${keys.length} keys, at most 65535`);
  const firstAt = new Map<string, number>();
  let surrogates = false;
  keys.forEach((k, i) => {
    if (firstAt.has(k)) return;
    firstAt.set(k, i + 1);
    if (!surrogates && SURROGATE.test(k)) surrogates = true;
  });
  // The default sort compares UTF-16 code units: UTF-8 byte order unless a key holds a surrogate
  // pair (a code point above U+FFFF sorts below U+E000–U+FFFF by code units, above them by bytes).
  const distinct = [...firstAt.keys()];
  if (surrogates) distinct.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  else distinct.sort();
  const out = Buffer.allocUnsafe(2 * distinct.length);
  distinct.forEach((k, i) => out.writeUInt16BE(firstAt.get(k)!, 2 * i));
  return out;
}
