import { describe, expect, it } from 'vitest';
import { CircuitBreaker, circuitStateValue, type CircuitState } from '../../../src/peer/circuit-breaker.js';
import { ValidationError } from '../../../src/errors.js';

function setup(failureThreshold = 3, resetTimeoutMs = 1000) {
  let t = 0;
  const cb = new CircuitBreaker({ failureThreshold, resetTimeoutMs, now: () => t });
  const changes: Array<[CircuitState, CircuitState]> = [];
  cb.onChange((to, from) => changes.push([to, from]));
  return { cb, changes, advance: (ms: number) => (t += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures', () => {
    const { cb, changes } = setup(3);
    cb.onFailure();
    cb.onFailure();
    expect(cb.state).toBe('closed');
    expect(cb.canRequest()).toBe(true);
    cb.onFailure();
    expect(cb.state).toBe('open');
    expect(cb.canRequest()).toBe(false);
    expect(changes).toEqual([['open', 'closed']]);
  });

  it('a success resets the consecutive count', () => {
    const { cb } = setup(3);
    cb.onFailure();
    cb.onFailure();
    cb.onSuccess();
    cb.onFailure();
    cb.onFailure();
    expect(cb.state).toBe('closed');
    expect(cb.consecutiveFailures).toBe(2);
  });

  it('lets exactly one trial through after the reset timeout, and closes on its success', () => {
    const { cb, changes, advance } = setup(1, 1000);
    cb.onFailure();
    advance(999);
    expect(cb.canRequest()).toBe(false);
    advance(1);
    expect(cb.canRequest()).toBe(true);
    expect(cb.state).toBe('half_open');
    expect(cb.canRequest()).toBe(false);
    cb.onSuccess();
    expect(cb.state).toBe('closed');
    expect(cb.canRequest()).toBe(true);
    expect(changes).toEqual([
      ['open', 'closed'],
      ['half_open', 'open'],
      ['closed', 'half_open'],
    ]);
  });

  it('a failed trial reopens with a fresh timeout', () => {
    const { cb, advance } = setup(2, 1000);
    cb.onFailure();
    cb.onFailure();
    advance(5000);
    expect(cb.canRequest()).toBe(true);
    advance(10);
    cb.onFailure();
    expect(cb.state).toBe('open');
    advance(999);
    expect(cb.canRequest()).toBe(false);
    advance(1);
    expect(cb.canRequest()).toBe(true);
  });

  it('allows a new trial when the previous one never reported', () => {
    const { cb, advance } = setup(1, 1000);
    cb.onFailure();
    advance(1000);
    expect(cb.canRequest()).toBe(true);
    advance(999);
    expect(cb.canRequest()).toBe(false);
    advance(1);
    expect(cb.canRequest()).toBe(true);
    expect(cb.state).toBe('half_open');
  });

  it('a late failure while open does not extend the timeout', () => {
    const { cb, advance } = setup(1, 1000);
    cb.onFailure();
    advance(900);
    cb.onFailure();
    advance(100);
    expect(cb.canRequest()).toBe(true);
  });

  it('unsubscribes listeners', () => {
    const { cb } = setup(1);
    const seen: CircuitState[] = [];
    const off = cb.onChange((to) => seen.push(to));
    off();
    cb.onFailure();
    expect(seen).toEqual([]);
  });

  it('maps states to gauge values', () => {
    expect(circuitStateValue('closed')).toBe(0);
    expect(circuitStateValue('half_open')).toBe(1);
    expect(circuitStateValue('open')).toBe(2);
  });

  it('refuses invalid options', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, resetTimeoutMs: 1, now: () => 0 })).toThrow(ValidationError);
    expect(() => new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: -1, now: () => 0 })).toThrow(ValidationError);
  });
});
