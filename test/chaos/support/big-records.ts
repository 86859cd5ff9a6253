// Contents near the payload limit for the big-record bursts and the HTTP abuse: each unique (its hash names
// the request, as the oracle needs), sized from the seed. A compressible one travels as a zstd frame of a few
// hundred bytes that inflates to about 1 MiB on every reader (the "21 KB on the wire" backlog of the issue,
// scaled); an incompressible one travels at full size.
import type { Rng } from './rng.js';

/** Keys the bursts write: a fixed set, reused burst after burst, so the records at the end stay bounded. */
export const BIG_KEYS = 48;
export const bigKey = (i: number): string => `big/${i % BIG_KEYS}`;

/** A body of `size` bytes starting with a unique tag; the rest is one repeated byte or seeded noise. */
export function bigBody(rng: Rng, size: number, tag: string, compressible: boolean): Buffer {
  const body = Buffer.alloc(size, 0x7a);
  const head = Buffer.from(`${tag}:`);
  head.copy(body, 0, 0, Math.min(head.length, size));
  if (!compressible) {
    for (let at = head.length; at + 4 <= size; at += 4) body.writeUInt32LE(rng.u32(), at);
  }
  return body;
}

/** Sizes of a burst: the first exactly the limit, the others within 4 KiB under it. */
export function burstSizes(rng: Rng, count: number, limit: number): number[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? limit : limit - rng.int(1, 4096)));
}

/** Valid JSON nested `depth` deep around a unique number: cheap to send, costly to parse into a tree. */
export function nestedJson(depth: number, unique: number): Buffer {
  return Buffer.from(`${'['.repeat(depth)}${unique}${']'.repeat(depth)}`);
}
