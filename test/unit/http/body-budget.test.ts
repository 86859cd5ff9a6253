import { describe, expect, it } from 'vitest';
import { BodyBudget } from '../../../src/http/body-budget.js';

describe('BodyBudget', () => {
  it('admits leases up to the limit, gives bytes back once on release, and always admits a body alone', () => {
    const budget = new BodyBudget(100);
    const a = budget.lease();
    const b = budget.lease();
    expect(a.reserve(60)).toBe(true);
    expect(b.reserve(50)).toBe(false);
    expect(b.reserve(40)).toBe(true);
    expect(budget.inUse).toBe(100);
    a.release();
    a.release();
    expect(budget.inUse).toBe(40);
    b.release();
    // Nothing held: a body past the limit is still admitted (one record of max_payload_bytes must pass).
    const big = budget.lease();
    expect(big.reserve(500)).toBe(true);
    expect(budget.lease().reserve(1)).toBe(false);
    big.release();
    expect(budget.inUse).toBe(0);
    expect(big.reserve(1)).toBe(false);
  });
});
