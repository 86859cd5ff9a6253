/**
 * Turns zod issues into operator-facing ConfigIssues: the dotted path from the file's top
 * level and a plain sentence. Messages describe types and limits, never the value given.
 */
import { z } from 'zod';
import type { ConfigIssue } from './config-error.js';
import { formatPath, type ConfigPath } from './path.js';

const TYPE_NAMES: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'a non-finite number';
    return Number.isInteger(value) ? 'an integer' : 'a fractional number';
  }
  if (typeof value === 'object') return value instanceof Date ? 'a date' : 'a mapping';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

function limit(value: number | bigint): string {
  return typeof value === 'bigint' ? value.toString() : String(value);
}

/** The keys an object schema allows at `path` (array indexes skipped), for "did you mean". */
export function allowedKeysAt(schema: z.ZodType, path: ConfigPath): string[] {
  let node: z.ZodType | undefined = schema;
  for (const segment of [...path, undefined]) {
    // Unwrap defaults, optionals and transforms down to the structural schema.
    for (;;) {
      if (node instanceof z.ZodDefault || node instanceof z.ZodPrefault || node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
      else if (node instanceof z.ZodPipe) node = node.in as z.ZodType;
      else break;
    }
    if (segment === undefined) break;
    if (typeof segment === 'number' && node instanceof z.ZodArray) node = node.element as z.ZodType;
    else if (typeof segment === 'string' && node instanceof z.ZodObject) node = (node.shape as Record<string, z.ZodType>)[segment];
    else return [];
    if (node === undefined) return [];
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** "unknown key (did you mean "batch_size"?)", or the allowed keys when nothing is close. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const normalized = key.toLowerCase().replace(/[-\s]/g, '_');
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = candidate.replace(/_/g, '') === normalized.replace(/_/g, '') ? 0 : editDistance(normalized, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 4))) return `unknown key (did you mean "${best}"?)`;
  return allowed.length === 0 ? 'unknown key' : `unknown key (allowed: ${allowed.join(', ')})`;
}

function toPath(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
}

export interface LocatedIssue {
  /** Path segments from the file's top level, for locating the issue in YAML. */
  segments: (string | number)[];
  issue: ConfigIssue;
}

/**
 * Converts one zod issue (path relative to `schema`) into located issues, prefixed with
 * `prefix` (e.g. ['replication']). Unknown keys become one issue per key, at that key.
 */
export function fromZodIssue(issue: z.core.$ZodIssue, schema: z.ZodType, prefix: ConfigPath): LocatedIssue[] {
  const relative = toPath(issue.path);
  const located = (segments: (string | number)[], message: string): LocatedIssue => {
    const full = [...prefix, ...segments];
    return { segments: full, issue: { path: formatPath(full), message } };
  };
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(schema, relative);
      return issue.keys.map((key) => located([...relative, key], unknownKeyMessage(key, allowed)));
    }
    case 'invalid_type': {
      if (issue.input === undefined) return [located(relative, 'required')];
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      return [located(relative, `expected ${expected}, got ${describeType(issue.input)}`)];
    }
    case 'too_small': {
      if (issue.origin === 'string') {
        const min = Number(issue.minimum);
        return [located(relative, min === 1 ? 'must not be empty' : `must be at least ${min} characters long`)];
      }
      return [located(relative, issue.inclusive === false ? `must be greater than ${limit(issue.minimum)}` : `must be at least ${limit(issue.minimum)}`)];
    }
    case 'too_big': {
      if (issue.origin === 'string') return [located(relative, `must be at most ${limit(issue.maximum)} characters long`)];
      return [located(relative, issue.inclusive === false ? `must be less than ${limit(issue.maximum)}` : `must be at most ${limit(issue.maximum)}`)];
    }
    case 'invalid_value':
      return [located(relative, `must be one of: ${issue.values.map((value) => String(value)).join(', ')}`)];
    default:
      // custom (our rules, URLs, durations), invalid_format (regex), invalid_union (durations): our own wording.
      return [located(relative, issue.message)];
  }
}
