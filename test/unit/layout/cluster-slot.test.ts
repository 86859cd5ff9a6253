import { describe, expect, it } from 'vitest';
import { clusterSlot, crc16 } from '../../../src/layout/cluster-slot.js';

describe('clusterSlot (Redis Cluster specification)', () => {
  it('computes CRC16-XMODEM as the specification\'s test vector says', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
  });

  it('matches the slots Redis gives known keys', () => {
    expect(clusterSlot('foo')).toBe(12182);
    expect(clusterSlot('bar')).toBe(5061);
    expect(clusterSlot('hello')).toBe(866);
  });

  it('hashes only the hash tag when there is a non-empty one', () => {
    expect(clusterSlot('{user1000}.following')).toBe(clusterSlot('{user1000}.followers'));
    expect(clusterSlot('{user1000}.following')).toBe(clusterSlot('user1000'));
    // An empty tag, or none closed: the whole key.
    expect(clusterSlot('foo{}{bar}')).toBe(crc16(Buffer.from('foo{}{bar}')) % 16384);
    expect(clusterSlot('foo{bar')).toBe(crc16(Buffer.from('foo{bar')) % 16384);
    // From the first '{' to the next '}': the tag of foo{{bar}}zap is "{bar".
    expect(clusterSlot('foo{{bar}}zap')).toBe(crc16(Buffer.from('{bar')) % 16384);
  });
});
