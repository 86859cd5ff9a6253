/**
 * The far-future rule (docs/reliability.md, "Far-future stamps"): a received change stamped
 * more than `max_future_skew` ahead of the local wall clock is refused for now — it neither
 * applies nor moves the local clock — and accepted once the wall clock has caught up to within
 * the bound. Whether a change passes depends only on its stamp and the wall clock, so every node
 * ends up applying it and convergence stays deterministic. Pure; the store's Lua applies the
 * same comparison (apply.lua).
 */
import { DEFAULTS } from '../defaults.js';
import { HLC_PHYSICAL_DIGITS, HLC_MAX_PHYSICAL_MS, isHlcShape } from './hlc.js';

/** Default `store.max_future_skew`: see docs/configuration.md for why. */
export const DEFAULT_MAX_FUTURE_SKEW_MS = DEFAULTS.maxFutureSkewMs;

/** The physical part of a stamp of the right shape; Infinity for anything else (never within a bound). */
function physicalOf(hlc: string): number {
  if (!isHlcShape(hlc)) return Number.POSITIVE_INFINITY;
  const ms = Number(hlc.slice(0, HLC_PHYSICAL_DIGITS));
  return ms > HLC_MAX_PHYSICAL_MS ? Number.POSITIVE_INFINITY : ms;
}

/** True when `hlc` is further ahead of `nowMs` than `maxFutureSkewMs` allows. */
export function isTooFarAhead(hlc: string, nowMs: number, maxFutureSkewMs: number): boolean {
  return physicalOf(hlc) > nowMs + maxFutureSkewMs;
}

/** The wall-clock time from which `hlc` is within the bound (Infinity for a stamp beyond every bound). */
export function acceptableFromMs(hlc: string, maxFutureSkewMs: number): number {
  return physicalOf(hlc) - maxFutureSkewMs;
}
