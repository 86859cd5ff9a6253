// The convergence suite's seeded fault schedule: a function of the seed and the kind filter. A bug here would
// hide engine bugs rather than show them.
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, generateSchedule, parseFaultKinds } from '../../chaos/support/faults.js';
import { Rng } from '../../chaos/support/rng.js';

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
