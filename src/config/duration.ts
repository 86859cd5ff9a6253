import { ValidationError } from '../errors.js';

/**
 * Durations in the config file are written for humans ("250ms", "5s", "7d") and used by the
 * engine as plain milliseconds. One unit per value, whole numbers only: "1.5s" or "1h30m"
 * would invite rounding questions that a config file should not raise — write "1500ms" or "90m".
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** Largest first, so formatDuration picks the shortest exact spelling. */
const UNITS_DESCENDING: readonly Unit[] = ['d', 'h', 'm', 's', 'ms'];

const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

export const DURATION_HINT = 'a duration like "250ms", "5s", "2m", "1h", "7d" or a whole number of milliseconds';

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

/** Non-throwing parse, for the schema: the reason never echoes the input (it may be a mistyped secret). */
export function tryParseDuration(value: string | number): DurationResult {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? { ok: true, ms: value } : { ok: false, reason: `must be ${DURATION_HINT}` };
  }
  const match = DURATION_PATTERN.exec(value.trim());
  if (match === null) return { ok: false, reason: `must be ${DURATION_HINT}` };
  const ms = Number(match[1]) * UNIT_MS[match[2] as Unit];
  return Number.isSafeInteger(ms) ? { ok: true, ms } : { ok: false, reason: 'is too large' };
}

/**
 * Parses a duration to milliseconds: a string `<digits><unit>` with unit ms|s|m|h|d, or a
 * non-negative integer meaning milliseconds. Throws ValidationError('invalid_duration') otherwise.
 */
export function parseDuration(value: string | number, field = 'duration'): number {
  const result = tryParseDuration(value);
  if (!result.ok) throw new ValidationError('invalid_duration', field, result.reason);
  return result.ms;
}

/** The shortest exact spelling of `ms` ("7d", "90s", "250ms"); parseDuration(formatDuration(x)) === x. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('formatDuration: ms must be a non-negative safe integer');
  if (ms === 0) return '0ms';
  for (const unit of UNITS_DESCENDING) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
