import { describe, expect, it } from 'vitest';
import { AimdBatchSizer } from '../../../src/hot-path/aimd.js';
import { ValidationError } from '../../../src/errors.js';

describe('AimdBatchSizer', () => {
  const opts = { initial: 100, min: 10, max: 1000, enabled: true };

  it('doubles after a full read, up to max', () => {
    const s = new AimdBatchSizer(opts);
    expect(s.next(100, 100)).toBe(200);
    expect(s.next(200, 200)).toBe(400);
    expect(s.next(400, 400)).toBe(800);
    expect(s.next(800, 800)).toBe(1000);
    expect(s.next(1000, 1000)).toBe(1000);
  });

  it('shrinks by max(1, round(min/2)) after a clearly short read, down to min', () => {
    const s = new AimdBatchSizer(opts);
    expect(s.next(0, 100)).toBe(95);
    expect(s.next(47, 95)).toBe(90);
    const small = new AimdBatchSizer({ initial: 3, min: 1, max: 8, enabled: true });
    expect(small.next(0, 3)).toBe(2);
    expect(small.next(0, 2)).toBe(1);
    expect(small.next(0, 1)).toBe(1);
  });

  it('holds in the dead band between half and full', () => {
    const s = new AimdBatchSizer(opts);
    expect(s.next(50, 100)).toBe(100);
    expect(s.next(99, 100)).toBe(100);
  });

  it('always returns initial when disabled', () => {
    const s = new AimdBatchSizer({ ...opts, enabled: false });
    expect(s.next(100, 100)).toBe(100);
    expect(s.next(0, 100)).toBe(100);
    expect(s.current).toBe(100);
    // Min and max do not constrain a fixed size, whatever they are.
    const fixed = new AimdBatchSizer({ initial: 5, min: 50, max: 10, enabled: false });
    expect(fixed.next(5, 5)).toBe(5);
  });

  it('clamps an initial size outside [min, max]', () => {
    expect(new AimdBatchSizer({ ...opts, initial: 5000 }).current).toBe(1000);
    expect(new AimdBatchSizer({ ...opts, initial: 1 }).current).toBe(10);
  });

  it('refuses invalid options', () => {
    expect(() => new AimdBatchSizer({ ...opts, min: 0 })).toThrow(ValidationError);
    expect(() => new AimdBatchSizer({ ...opts, min: 2000 })).toThrow(/must not exceed max/);
    expect(() => new AimdBatchSizer({ ...opts, max: 1.5 })).toThrow(ValidationError);
  });
});
