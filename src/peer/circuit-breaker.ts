import { ValidationError } from '../errors.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

/** Value of the `replication_peer_circuit_state` gauge. */
export function circuitStateValue(state: CircuitState): 0 | 1 | 2 {
  switch (state) {
    case 'closed':
      return 0;
    case 'half_open':
      return 1;
    case 'open':
      return 2;
  }
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one trial call is let through. */
  resetTimeoutMs: number;
  now: () => number;
}

export type CircuitChangeListener = (to: CircuitState, from: CircuitState) => void;

/**
 * Per-peer circuit breaker: closed → open after `failureThreshold` consecutive
 * failures → half-open once `resetTimeoutMs` has passed (on the next `canRequest`)
 * → closed on a success, or open again (fresh timeout) on a failure.
 *
 * Half-open lets exactly one trial out. A trial that reports nothing for another
 * `resetTimeoutMs` is presumed lost and a new one is allowed, so a caller that forgot
 * to report cannot wedge the peer forever.
 */
export class CircuitBreaker {
  private readonly threshold: number;
  private readonly resetTimeoutMs: number;
  private readonly now: () => number;
  private readonly listeners = new Set<CircuitChangeListener>();
  private current: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialAt = 0;

  constructor(opts: CircuitBreakerOptions) {
    if (!Number.isSafeInteger(opts.failureThreshold) || opts.failureThreshold < 1) {
      throw new ValidationError('invalid_circuit_option', 'failureThreshold', `must be a positive integer, got ${opts.failureThreshold}`);
    }
    if (!Number.isFinite(opts.resetTimeoutMs) || opts.resetTimeoutMs < 0) {
      throw new ValidationError('invalid_circuit_option', 'resetTimeoutMs', `must be a non-negative number, got ${opts.resetTimeoutMs}`);
    }
    this.threshold = opts.failureThreshold;
    this.resetTimeoutMs = opts.resetTimeoutMs;
    this.now = opts.now;
  }

  /** The state as of the last call; an expired open circuit turns half-open on `canRequest`. */
  get state(): CircuitState {
    return this.current;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** May a call to the peer be made now? In half-open, `true` means "you are the trial". */
  canRequest(): boolean {
    const t = this.now();
    switch (this.current) {
      case 'closed':
        return true;
      case 'open':
        if (t - this.openedAt < this.resetTimeoutMs) return false;
        this.trialAt = t;
        this.transition('half_open');
        return true;
      case 'half_open':
        if (t - this.trialAt < this.resetTimeoutMs) return false;
        this.trialAt = t;
        return true;
    }
  }

  onSuccess(): void {
    this.failures = 0;
    this.transition('closed');
  }

  onFailure(): void {
    switch (this.current) {
      case 'closed':
        this.failures += 1;
        if (this.failures >= this.threshold) this.open();
        return;
      case 'half_open':
        this.failures += 1;
        this.open();
        return;
      case 'open':
        // A late failure from a call made before the circuit opened tells us nothing
        // new; extending the timeout would only delay recovery.
        return;
    }
  }

  /** Subscribe to state changes; returns the unsubscribe function. */
  onChange(listener: CircuitChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private open(): void {
    this.openedAt = this.now();
    this.transition('open');
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    for (const listener of this.listeners) listener(to, from);
  }
}
