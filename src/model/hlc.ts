/**
 * Hybrid logical clock stamps (docs/architecture.md): physical milliseconds + a logical counter,
 * fixed width so that string order equals time order: `0001735776000000-00000`.
 * Pure functions; the store keeps the last stamp durably (see store/commands, whose includes/stamps.lua
 * implements nextHlc and successorHlc with the same rules).
 *
 * Bounds (docs/reliability.md, "Extreme stamps"): the physical part is at most
 * HLC_MAX_PHYSICAL_MS, 9999-12-31T23:59:59.999Z. The format has room for 16 digits, but Lua
 * numbers are doubles: above 2^53 ms `tonumber` and `+ 1` round, and `%016d` of 10^16 has 17
 * digits. Under this cap (< 2^48) every value and every `+ 1` is exact in a double, in
 * JavaScript and in Lua alike.
 */
import { ValidationError } from '../errors.js';

export const HLC_PHYSICAL_DIGITS = 16;
export const HLC_LOGICAL_DIGITS = 5;
export const HLC_MAX_LOGICAL = 99_999;
/** 9999-12-31T23:59:59.999Z: the largest physical part a stamp may have. */
export const HLC_MAX_PHYSICAL_MS = 253_402_300_799_999;
const HLC_LENGTH = HLC_PHYSICAL_DIGITS + 1 + HLC_LOGICAL_DIGITS;
/** The greatest valid stamp; fixed width, so `value <= HLC_MAX` is the bound check. */
export const HLC_MAX = `${String(HLC_MAX_PHYSICAL_MS).padStart(HLC_PHYSICAL_DIGITS, '0')}-${HLC_MAX_LOGICAL}`;
const DASH = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

export interface HlcParts {
  physicalMs: number;
  logical: number;
}

/**
 * 16 digits, '-', 5 digits, whatever their value. Only for reading a stored leaf, which may come
 * from an older version that did not bound stamps: the cold path must still be able to compare
 * it. Everything a change may carry is checked with isHlc.
 */
export function isHlcShape(value: string): boolean {
  if (value.length !== HLC_LENGTH) return false;
  for (let i = 0; i < HLC_LENGTH; i++) {
    const c = value.charCodeAt(i);
    if (i === HLC_PHYSICAL_DIGITS ? c !== DASH : c < ZERO || c > NINE) return false;
  }
  return true;
}

/** A valid stamp: the shape, and a physical part ≤ HLC_MAX_PHYSICAL_MS. Char by char, not a regex: it runs several times per hot-path entry. */
export function isHlc(value: string): boolean {
  return isHlcShape(value) && value <= HLC_MAX;
}

/** Why `hlc` is not a valid stamp, quoting at most its first 64 characters. */
export function hlcProblem(hlc: unknown): string {
  if (typeof hlc !== 'string') return 'is not an HLC stamp';
  const quoted = JSON.stringify(hlc.slice(0, 64));
  return isHlcShape(hlc) ? `${quoted} is beyond the greatest stamp ${HLC_MAX} (9999-12-31)` : `${quoted} is not an HLC stamp (16 digits, '-', 5 digits)`;
}

export function formatHlc(physicalMs: number, logical = 0): string {
  if (!Number.isSafeInteger(physicalMs) || physicalMs < 0 || physicalMs > HLC_MAX_PHYSICAL_MS) {
    throw new ValidationError('invalid_hlc', 'hlc', `physical time ${physicalMs} is out of range (0 .. ${HLC_MAX_PHYSICAL_MS})`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical > HLC_MAX_LOGICAL) {
    throw new ValidationError('invalid_hlc', 'hlc', `logical counter ${logical} is out of range`);
  }
  return `${String(physicalMs).padStart(HLC_PHYSICAL_DIGITS, '0')}-${String(logical).padStart(HLC_LOGICAL_DIGITS, '0')}`;
}

export function parseHlc(value: string): HlcParts {
  if (!isHlc(value)) {
    throw new ValidationError('invalid_hlc', 'hlc', hlcProblem(value));
  }
  return { physicalMs: Number(value.slice(0, HLC_PHYSICAL_DIGITS)), logical: Number(value.slice(HLC_PHYSICAL_DIGITS + 1)) };
}

/** The least stamp greater than `value` (a logical tick, carrying into the milliseconds). */
export function successorHlc(value: string): string {
  const { physicalMs, logical } = parseHlc(value);
  if (logical < HLC_MAX_LOGICAL) return formatHlc(physicalMs, logical + 1);
  return formatHlc(physicalMs + 1, 0);
}

/**
 * The stamp a local write gets after `last` at wall time `nowMs`: max(last, now) + tick, never
 * more than `maxAheadMs` ahead of the wall clock (docs/reliability.md, "Far-future stamps").
 *  - `last` beyond that bound (the wall clock stepped back further, or an older version let a
 *    far-future stamp in): the clock restarts at the bound, (now + maxAheadMs, 0), instead of
 *    following it. Stamps of other keys may then go backwards, which LWW does not mind: the store
 *    makes a write beat the key's own current stamp (write.lua), whatever the clock says.
 *  - the logical counter exhausted at the bound itself (a received stamp exactly at the bound
 *    with counter 99999): the same stamp again; the store's per-key rule still orders writes to
 *    one key.
 */
export function nextHlc(last: string | null, nowMs: number, maxAheadMs: number = Number.MAX_SAFE_INTEGER): string {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0 || nowMs > HLC_MAX_PHYSICAL_MS) {
    throw new ValidationError('invalid_hlc', 'nowMs', `wall clock ${nowMs} is out of range`);
  }
  const cap = Math.min(HLC_MAX_PHYSICAL_MS, nowMs + Math.max(0, maxAheadMs));
  if (last === null) return formatHlc(nowMs, 0);
  // A stamp of the right shape beyond the range (left by an older version) is beyond every bound.
  if (isHlcShape(last) && !isHlc(last)) return formatHlc(cap, 0);
  const { physicalMs, logical } = parseHlc(last);
  if (nowMs > physicalMs) return formatHlc(nowMs, 0);
  if (physicalMs > cap) return formatHlc(cap, 0);
  if (logical < HLC_MAX_LOGICAL) return formatHlc(physicalMs, logical + 1);
  if (physicalMs < cap) return formatHlc(physicalMs + 1, 0);
  return last;
}

/** The greater of two stamps (fixed width: string order is time order). */
export function maxHlc(a: string, b: string): string {
  return a >= b ? a : b;
}

export function hlcPhysicalMs(value: string): number {
  return parseHlc(value).physicalMs;
}
