/**
 * Hybrid logical clock stamps (DESIGN §3): physical milliseconds + a logical counter,
 * fixed width so that string order equals time order: `0001735776000000-00000`.
 * Pure functions; the store keeps the last stamp durably (see store/commands).
 */
import { ValidationError } from '../errors.js';

export const HLC_PHYSICAL_DIGITS = 16;
export const HLC_LOGICAL_DIGITS = 5;
export const HLC_MAX_LOGICAL = 99_999;
const HLC_LENGTH = HLC_PHYSICAL_DIGITS + 1 + HLC_LOGICAL_DIGITS;
const DASH = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

export interface HlcParts {
  physicalMs: number;
  logical: number;
}

/** 16 digits, '-', 5 digits. Checked char by char, not with a regex: it runs several times per hot-path entry. */
export function isHlc(value: string): boolean {
  if (value.length !== HLC_LENGTH) return false;
  for (let i = 0; i < HLC_LENGTH; i++) {
    const c = value.charCodeAt(i);
    if (i === HLC_PHYSICAL_DIGITS ? c !== DASH : c < ZERO || c > NINE) return false;
  }
  return true;
}

export function formatHlc(physicalMs: number, logical = 0): string {
  if (!Number.isSafeInteger(physicalMs) || physicalMs < 0 || physicalMs >= 10 ** HLC_PHYSICAL_DIGITS) {
    throw new ValidationError('invalid_hlc', 'hlc', `physical time ${physicalMs} is out of range`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical > HLC_MAX_LOGICAL) {
    throw new ValidationError('invalid_hlc', 'hlc', `logical counter ${logical} is out of range`);
  }
  return `${String(physicalMs).padStart(HLC_PHYSICAL_DIGITS, '0')}-${String(logical).padStart(HLC_LOGICAL_DIGITS, '0')}`;
}

export function parseHlc(value: string): HlcParts {
  if (!isHlc(value)) {
    throw new ValidationError('invalid_hlc', 'hlc', `"${value}" is not an HLC stamp (expected 16 digits, '-', 5 digits)`);
  }
  return { physicalMs: Number(value.slice(0, HLC_PHYSICAL_DIGITS)), logical: Number(value.slice(HLC_PHYSICAL_DIGITS + 1)) };
}

/** The stamp that follows `last` given wall time `nowMs`: max(last, now) + tick. */
export function nextHlc(last: string | null, nowMs: number): string {
  if (last === null) return formatHlc(nowMs, 0);
  const { physicalMs, logical } = parseHlc(last);
  if (nowMs > physicalMs) return formatHlc(nowMs, 0);
  if (logical < HLC_MAX_LOGICAL) return formatHlc(physicalMs, logical + 1);
  return formatHlc(physicalMs + 1, 0);
}

/** The greater of two stamps (fixed width: string order is time order). */
export function maxHlc(a: string, b: string): string {
  return a >= b ? a : b;
}

export function hlcPhysicalMs(value: string): number {
  return parseHlc(value).physicalMs;
}
