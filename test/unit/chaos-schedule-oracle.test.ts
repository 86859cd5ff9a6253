// The convergence suite's own pure parts: the seeded schedule (a function of the seed and the kind filter) and
// the oracle's clock rule. A bug here would hide engine bugs rather than show them.
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, generateSchedule, parseFaultKinds } from '../chaos/support/faults.js';
import { FUTURE_STAMP_BOUND_MS, Oracle } from '../chaos/support/oracle.js';
import { Rng } from '../chaos/support/rng.js';

const options = { nodes: 3, durationMs: 40_000, extra: 3 };

describe('chaos schedule', () => {
  it('is a function of the seed and holds every kind', () => {
    for (const seed of [1, 2, 1001, 1050]) {
      const a = generateSchedule(new Rng(seed).fork('schedule'), options);
      const b = generateSchedule(new Rng(seed).fork('schedule'), options);
      expect(a).toEqual(b);
      const kinds = new Set(a.map((s) => s.fault.kind));
      for (const k of FAULT_KINDS) expect(kinds.has(k)).toBe(true);
      const stamps = a.find((s) => s.fault.kind === 'hostile-stamps')!.fault;
      expect(stamps.kind === 'hostile-stamps' && stamps.entries.length).toBe(6);
      const auth = a.filter((s) => s.fault.kind === 'peer-auth').map((s) => (s.fault.kind === 'peer-auth' ? s.fault.how : ''));
      expect(new Set(auth)).toEqual(new Set(['password', 'acl']));
      expect(a.some((s) => s.fault.kind === 'big-burst' && s.fault.backlog)).toBe(true);
    }
  });

  it('plays only the kinds asked for, plus the final partition', () => {
    const only = parseFaultKinds('redis-flushall, hostile-stamps');
    const s = generateSchedule(new Rng(7).fork('schedule'), { ...options, only });
    expect(new Set(s.map((x) => x.fault.kind))).toEqual(new Set(['redis-flushall', 'hostile-stamps', 'partition']));
    expect(s.filter((x) => x.fault.kind === 'partition')).toHaveLength(1);
  });

  it('names an unknown kind', () => {
    expect(() => parseFaultKinds('redis-flushall,flush')).toThrow(/unknown fault kind "flush"/);
  });
});

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
