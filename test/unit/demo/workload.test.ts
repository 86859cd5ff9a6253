// The demo's workload: reproducible, mixed, and with real conflicts on the hot keys.
import { describe, expect, it } from 'vitest';
import { hotKey, itemKey, seededRandom, WorkloadPlanner } from '../../../src/demo/workload.js';

const options = { seed: 42, keySpace: 50, hotKeys: 3 };

describe('WorkloadPlanner', () => {
  it('the same seed plans the same writes, whatever order the nodes are asked in', () => {
    const a = new WorkloadPlanner(options);
    const b = new WorkloadPlanner(options);
    const mix = { puts: 5, deletes: 2, hot: true };
    const fromA = [a.plan('london', 0, mix), a.plan('paris', 0, mix)];
    const fromB = [b.plan('paris', 0, mix), b.plan('london', 0, mix)];
    expect(fromA[0]).toEqual(fromB[1]);
    expect(fromA[1]).toEqual(fromB[0]);
    expect(fromA[0]).not.toEqual(fromA[1]);
  });

  it('puts small JSON records and deletes inside the key space, in the asked-for mix', () => {
    const ops = new WorkloadPlanner(options).plan('london', 7, { puts: 4, deletes: 3, hot: false });
    expect(ops.filter((o) => o.kind === 'put')).toHaveLength(4);
    expect(ops.filter((o) => o.kind === 'delete')).toHaveLength(3);
    for (const op of ops) {
      expect(op.key).toMatch(/^item:\d{4}$/);
      expect(Number(op.key.slice(5))).toBeLessThan(options.keySpace);
      if (op.kind === 'put') {
        const record = JSON.parse(op.content.toString('utf8')) as Record<string, unknown>;
        expect(record).toMatchObject({ id: op.key, city: 'london', tick: 7 });
        expect(op.content.length).toBeLessThan(200);
      }
    }
  });

  it('every node writes the same hot key in the same tick: concurrent conflicting writes', () => {
    const p = new WorkloadPlanner(options);
    for (const tick of [0, 1, 2, 3]) {
      const hot = ['london', 'paris', 'berlin'].map((n) => p.plan(n, tick, { puts: 0, deletes: 0, hot: true }));
      const keys = new Set(hot.map((ops) => ops[0]?.key));
      expect(keys).toEqual(new Set([hotKey(tick % options.hotKeys)]));
      const contents = new Set(hot.map((ops) => (ops[0]?.kind === 'put' ? ops[0].content.toString() : '')));
      expect(contents.size).toBe(3);
    }
  });

  it('seededRandom is deterministic and in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(itemKey(7)).toBe('item:0007');
  });
});
