/**
 * Redis Cluster's key → slot rule (the cluster specification): CRC16-CCITT (XMODEM) of the key, or of
 * its hash tag (what is between the first `{` and the next `}`, when not empty), modulo 16384. Pure:
 * the layout picks partition tags with it, without a cluster to ask.
 */
export const CLUSTER_SLOTS = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b) & 0xff]!;
  return crc;
}

/** The part of a key Redis hashes: its hash tag when it has a non-empty one, else the whole key. */
export function hashedPart(key: Buffer): Buffer {
  const open = key.indexOf(0x7b); // {
  if (open < 0) return key;
  const close = key.indexOf(0x7d, open + 1); // }
  if (close < 0 || close === open + 1) return key;
  return key.subarray(open + 1, close);
}

export function clusterSlot(key: string | Buffer): number {
  return crc16(hashedPart(typeof key === 'string' ? Buffer.from(key, 'utf8') : key)) % CLUSTER_SLOTS;
}
