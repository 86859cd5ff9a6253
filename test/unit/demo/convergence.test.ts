// The demo's verdict: equal roots and identical record sets, and a readable account when not.
import { describe, expect, it } from 'vitest';
import { compareNodes, describeDivergence, type NodeData } from '../../../src/demo/convergence.js';

const node = (name: string, root: string, records: Record<string, string>): NodeData => ({ name, root, records: new Map(Object.entries(records)) });
const same = { 'item:0001': 'h1 demo.london a', 'hot:0': 'h2 demo.paris b' };

describe('compareNodes', () => {
  it('converged: same root, same records', () => {
    const r = compareNodes([node('london', 'abc', same), node('paris', 'abc', same), node('berlin', 'abc', same)]);
    expect(r).toMatchObject({ converged: true, keys: 2, root: 'abc', differingKeys: 0, differences: [] });
  });

  it('equal roots are not enough: the records must match too', () => {
    const r = compareNodes([node('london', 'abc', same), node('berlin', 'abc', { 'item:0001': 'h1 demo.london a' })]);
    expect(r.converged).toBe(false);
    expect(r.root).toBe('abc');
    expect(r.differences).toEqual([{ key: 'hot:0', values: [{ name: 'london', value: 'h2 demo.paris b' }, { name: 'berlin', value: null }] }]);
  });

  it('different roots: not converged, differing keys in key order, at most `limit`', () => {
    const berlin = { ...same, 'item:0003': 'x', 'item:0002': 'y', 'hot:0': 'h3 demo.berlin c' };
    const r = compareNodes([node('london', 'abc', same), node('paris', 'abc', same), node('berlin', 'def', berlin)], 2);
    expect(r.converged).toBe(false);
    expect(r.root).toBeNull();
    expect(r.differingKeys).toBe(3);
    expect(r.differences.map((d) => d.key)).toEqual(['hot:0', 'item:0002']);
    const text = describeDivergence(r).join('\n');
    expect(text).toContain('roots differ: london = paris ≠ berlin');
    expect(text).toContain('berlin  root def');
    expect(text).toContain('3 key(s) differ; the first 2:');
    expect(text).toContain('item:0002: london absent | paris absent | berlin y');
  });

  it('no nodes is not convergence', () => {
    expect(compareNodes([]).converged).toBe(false);
  });
});
