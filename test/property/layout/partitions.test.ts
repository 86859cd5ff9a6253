import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterSlot } from '../../../src/layout/cluster-slot.js';
import { BRANCHES, branchRange, checkedPartitions, partitionOfBranch, partitionTags, slotRange } from '../../../src/layout/partitions.js';
import { branchOfBucket, bucketOf, rootOf, xorDigests, ZERO_DIGEST } from '../../../src/merkle/tree-shape.js';
import type { LeafStamp } from '../../../src/model/stamp.js';

const power = fc.integer({ min: 0, max: 8 }).map((k) => 2 ** k);
const partitionOfKey = (key: string, partitions: number): number => partitionOfBranch(parseInt(branchOfBucket(bucketOf(key)), 16), partitions);

describe('partitions of the tree', () => {
  it('are contiguous, disjoint branch ranges that cover all 256 branches in order', () => {
    fc.assert(fc.property(power, (s) => {
      let next = 0;
      for (let j = 0; j < s; j++) {
        const [first, last] = branchRange(j, s);
        expect(first).toBe(next);
        for (let b = first; b <= last; b++) expect(partitionOfBranch(b, s)).toBe(j);
        next = last + 1;
      }
      expect(next).toBe(BRANCHES);
    }));
  });

  it('give a root equal to the unpartitioned one: the XOR of the partition roots', () => {
    const leaf = fc.record({
      hlc: fc.integer({ min: 0, max: 2 ** 40 }).map((ms) => `${String(ms).padStart(16, '0')}-00000`),
      origin: fc.constantFrom('a', 'b', 'node-7'), hash: fc.stringMatching(/^[0-9a-f]{64}$/), deleted: fc.boolean(),
    });
    fc.assert(fc.property(power, fc.uniqueArray(fc.tuple(fc.string({ minLength: 1 }), leaf), { selector: ([k]) => k, maxLength: 60 }), (s, leaves) => {
      const parts: [string, LeafStamp][][] = Array.from({ length: s }, () => []);
      for (const [key, stamp] of leaves) parts[partitionOfKey(key, s)]!.push([key, stamp]);
      const combined = parts.map((p) => rootOf(p)).reduce(xorDigests, ZERO_DIGEST);
      expect(combined).toBe(rootOf(leaves));
    }));
  });

  it('refuses a partition count that is not a power of two from 1 to 256', () => {
    for (const bad of [0, 3, 12, 512, -2, 1.5, Number.NaN]) expect(() => checkedPartitions(bad)).toThrow(/power of two from 1 to 256/);
    for (const good of [1, 2, 16, 64, 256]) expect(checkedPartitions(good)).toBe(good);
  });
});

describe('partition tags', () => {
  it('put partition j in the j-th of S equal slot ranges, distinct and the same every time', () => {
    fc.assert(fc.property(power, fc.stringMatching(/^[a-z0-9:_-]{0,12}$/), (s, prefix) => {
      const tags = partitionTags(prefix, s);
      expect(partitionTags(prefix, s)).toEqual(tags);
      expect(new Set(tags).size).toBe(s);
      tags.forEach((tag, j) => {
        const [first, last] = slotRange(j, s);
        const slot = clusterSlot(`${prefix}{${tag}}r:anything`);
        expect(slot).toBeGreaterThanOrEqual(first);
        expect(slot).toBeLessThanOrEqual(last);
      });
    }), { numRuns: 40 });
  });

  it('refuse a prefix with a brace, which would change the tag', () => {
    expect(() => partitionTags('lon{don', 4)).toThrow(/must not contain/);
  });
});
