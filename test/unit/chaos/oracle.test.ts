// The convergence suite's oracle: its clock rule. A bug here would hide engine bugs rather than show them.
import { describe, expect, it } from 'vitest';
import { FUTURE_STAMP_BOUND_MS, Oracle } from '../../chaos/support/oracle.js';

describe('oracle clock rule', () => {
  const put = { op: 'put' as const, key: 'k', node: 'node-0', hash: 'h' };
  const stamp = (ms: bigint | number): string => `${String(ms).padStart(16, '0')}-00000`;

  it('accepts a stamp at its acknowledgement time and flags one past the bound', () => {
    const oracle = new Oracle();
    const now = 1_796_000_000_000;
    oracle.ack(put, { hlc: stamp(now), origin: 'node-0', hash: 'h' }, now);
    expect(oracle.checkClocks([], [{ node: 'node-0', hlc: stamp(now) }], now)).toEqual([]);
    oracle.ack({ ...put, key: 'k2' }, { hlc: stamp(now + FUTURE_STAMP_BOUND_MS + 1), origin: 'node-0', hash: 'h' }, now);
    const v = oracle.checkClocks([], [], now);
    expect(v).toHaveLength(1);
    expect(v[0]!.key).toBe('k2');
  });

  it('flags stamps at and past 2^53 on records and store clocks', () => {
    const oracle = new Oracle();
    const v = oracle.checkClocks([{ key: 'x', hash: 'h', hlc: stamp(2n ** 53n + 1n), origin: 'node-0', version: 1 }], [{ node: 'node-1', hlc: stamp(2n ** 53n) }], 1_796_000_000_000);
    expect(v.map((x) => x.key)).toEqual(['x', '']);
  });

  it('flags a store clock that is not an hlc at all (the 23-character stamp)', () => {
    const v = new Oracle().checkClocks([], [{ node: 'node-0', hlc: '10000000000000000-00000' }], 1_796_000_000_000);
    expect(v).toHaveLength(1);
  });
});
