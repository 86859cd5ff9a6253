import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { formatDuration, parseDuration, tryParseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['0ms', 0],
    [' 5s ', 5_000],
    [1500, 1500],
    [0, 0],
  ] as const)('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '5', '5 s', '1.5s', '-1s', '1h30m', '5S', 'five seconds', '5sec', 'ms'])('refuses the string %j', (input) => {
    expect(() => parseDuration(input, 'hot_path.block_timeout')).toThrow(ValidationError);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])('refuses the number %d', (input) => {
    expect(tryParseDuration(input).ok).toBe(false);
  });

  it('refuses a duration beyond the safe-integer range', () => {
    expect(tryParseDuration('99999999999999d')).toEqual({ ok: false, reason: 'is too large' });
  });

  it('names the field and code, never the input', () => {
    const error = (() => {
      try {
        parseDuration('hunter2', 'store.tombstone_ttl');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('invalid_duration');
    expect((error as ValidationError).field).toBe('store.tombstone_ttl');
    expect((error as ValidationError).message).not.toContain('hunter2');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [250, '250ms'],
    [1000, '1s'],
    [90_000, '90s'],
    [120_000, '2m'],
    [3_600_000, '1h'],
    [604_800_000, '7d'],
    [1001, '1001ms'],
  ])('%d ms is %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('refuses negative and fractional input', () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(0.5)).toThrow(RangeError);
  });
});
