/**
 * A partitioned store (docs/wire-format.md): S fixed partitions, S a power of two from 1 to 256,
 * fixed at creation. Partition j holds the keys of a contiguous range of the Merkle tree's 256
 * branches, so every digest is the one an unpartitioned store has, the root is the XOR of the
 * partition roots, and stores with different S compare with the same drill-down.
 *
 * Each partition's keys share one hash tag, chosen so that the partition's slot falls in the j-th of
 * S equal ranges of the 16,384 cluster slots: Redis Cluster gives each master a contiguous slot
 * range, so the partitions spread evenly over the masters. A partition is then one slot, and a
 * script over one partition's keys never crosses slots. Pure functions.
 */
import { CLUSTER_SLOTS, clusterSlot } from './cluster-slot.js';

export const BRANCHES = 256;
export const MAX_PARTITIONS = 256;
/** Candidate tags tried per partition before giving up (the expected number is S). */
const MAX_TAG_TRIES = 1_000_000;

export class LayoutError extends Error {
  readonly code = 'invalid_layout';
  constructor(message: string) {
    super(message);
    this.name = 'LayoutError';
  }
}

/** `partitions` checked: a power of two from 1 to 256. */
export function checkedPartitions(partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS || (partitions & (partitions - 1)) !== 0) {
    throw new LayoutError(`partitions must be a power of two from 1 to ${MAX_PARTITIONS}, got ${String(partitions)}`);
  }
  return partitions;
}

/** The partition of a branch (0–255). */
export function partitionOfBranch(branch: number, partitions: number): number {
  return Math.floor((branch * partitions) / BRANCHES);
}

/** The branches of partition j: [first, last], inclusive. */
export function branchRange(partition: number, partitions: number): readonly [number, number] {
  const width = BRANCHES / partitions;
  return [partition * width, (partition + 1) * width - 1];
}

/** The slots partition j's tag must hash into: [first, last], inclusive. */
export function slotRange(partition: number, partitions: number): readonly [number, number] {
  const width = CLUSTER_SLOTS / partitions;
  return [partition * width, (partition + 1) * width - 1];
}

/**
 * The hash tag of each partition: the first `<prefix><j in hex>.<n>` (n = 0, 1, …) whose slot is in
 * partition j's slot range. Deterministic; recorded in the layout at creation, never recomputed by a
 * reader. The prefix must not contain `{` or `}`.
 */
export function partitionTags(prefix: string, partitions: number): string[] {
  checkedPartitions(partitions);
  if (/[{}]/.test(prefix)) throw new LayoutError('the prefix must not contain "{" or "}": it would change the hash tag');
  return Array.from({ length: partitions }, (_, j) => {
    const [first, last] = slotRange(j, partitions);
    const stem = `${prefix}${j.toString(16).padStart(2, '0')}.`;
    for (let n = 0; n < MAX_TAG_TRIES; n++) {
      const tag = `${stem}${n}`;
      const slot = clusterSlot(tag);
      if (slot >= first && slot <= last) return tag;
    }
    throw new LayoutError(`no tag for partition ${j} of ${partitions} within ${MAX_TAG_TRIES} tries`);
  });
}
