/**
 * Reading a config file: YAML → `${ENV}` substitution on the tree → top-level check →
 * schema. Every problem found on the way is reported together, with its line when the file
 * has one, in a single ConfigError.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, INLINE_SOURCE, type ConfigIssue } from './config-error.js';
import { substituteEnvInTree, type Env } from './env.js';
import { unknownKeyMessage, type LocatedIssue } from './issues.js';
import { ROOT_KEY, validateConfig } from './parse.js';
import { formatPath } from './path.js';
import type { ReplicationConfig } from './types.js';
import { errorMessage } from '../errors.js';

export interface ParseTextOptions {
  /** Named in every message; the file path when there is one. */
  source?: string;
  /** Variables for `${VAR}`; default process.env. */
  env?: Env;
}

/** Anchors may be reused a little; more is an alias bomb, not a configuration. */
const MAX_ALIAS_COUNT = 100;

function isPlainMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array);
}

/** The yaml library appends " at line L, column C:" and the offending source line: drop both (it may hold a secret). */
function syntaxIssue(message: string, line?: number, column?: number): ConfigIssue {
  const first = message.split('\n')[0] ?? message;
  const text = first.replace(/ at line \d+, column \d+:?$/, '');
  return { path: '', message: `YAML syntax error: ${text}`, line, column };
}

/** Finds the YAML position of the deepest existing node on `segments`. */
function positionOf(doc: Document, lineCounter: LineCounter, segments: readonly (string | number)[]): { line: number; column: number } | undefined {
  for (let length = segments.length; length >= 1; length -= 1) {
    const prefix = segments.slice(0, length);
    const parentPath = prefix.slice(0, -1);
    const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
    const last = prefix[prefix.length - 1];
    let range: readonly number[] | null | undefined;
    if (isMap(parent)) {
      // Point at the key, which is where the operator looks for a misspelt or misplaced option.
      const pair = parent.items.find((item) => {
        const key: unknown = item.key;
        const keyValue = key !== null && typeof key === 'object' && 'value' in key ? (key as { value: unknown }).value : key;
        return keyValue === last || String(keyValue) === String(last);
      });
      const keyNode: unknown = pair?.key;
      range = keyNode !== null && typeof keyNode === 'object' && 'range' in keyNode ? (keyNode as { range?: readonly number[] | null }).range : undefined;
    } else if (isSeq(parent) && typeof last === 'number') {
      const item: unknown = parent.items[last];
      range = item !== null && typeof item === 'object' && 'range' in item ? (item as { range?: readonly number[] | null }).range : undefined;
    }
    const offset = range?.[0];
    if (offset !== undefined) {
      const pos = lineCounter.linePos(offset);
      return { line: pos.line, column: pos.col };
    }
  }
  return undefined;
}

/** Parses a whole config document (the `replication:` wrapper included). Throws ConfigError. */
export function parseConfigText(text: string, options: ParseTextOptions = {}): ReplicationConfig {
  const source = options.source ?? INLINE_SOURCE;
  const env = options.env ?? process.env;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => syntaxIssue(error.message, error.linePos?.[0].line, error.linePos?.[0].col)),
      source,
    );
  }
  let tree: unknown;
  try {
    tree = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = errorMessage(error);
    throw new ConfigError([syntaxIssue(message)], source);
  }

  const located: LocatedIssue[] = [];
  const at = (segments: (string | number)[], message: string): LocatedIssue => ({ segments, issue: { path: formatPath(segments), message } });

  // An empty document is an empty mapping that lacks `replication:`.
  if (tree === null || tree === undefined) tree = {};
  const cycle = aliasCycle(tree);
  if (cycle !== null) {
    // `a: &x {b: *x}` is legal YAML but an infinitely deep tree: every walk over it would overflow the stack.
    located.push(at(cycle, 'a YAML alias refers to a node that contains it (a cycle): a configuration must be a finite tree'));
  } else if (!isPlainMapping(tree)) {
    located.push({ segments: [], issue: { path: '', message: `expected a mapping with a single "${ROOT_KEY}:" key at the top level` } });
  } else {
    for (const key of Object.keys(tree)) {
      if (key !== ROOT_KEY) located.push(at([key], unknownKeyMessage(key, [ROOT_KEY])));
    }
    if (!(ROOT_KEY in tree) || tree[ROOT_KEY] === undefined || tree[ROOT_KEY] === null) {
      located.push(at([ROOT_KEY], 'required'));
    } else {
      const substituted = substituteEnvInTree(tree[ROOT_KEY], env, [ROOT_KEY]);
      const envFailed = new Set<string>();
      for (const issue of substituted.issues) {
        const segments = [...issue.path];
        envFailed.add(formatPath(segments));
        located.push(at(segments, issue.message));
      }
      const result = validateConfig(substituted.value);
      if (result.ok && located.length === 0) return result.config;
      // A value whose variable is missing was left unsubstituted: do not also report it as malformed.
      if (!result.ok) located.push(...result.issues.filter((issue) => !envFailed.has(issue.issue.path)));
    }
  }
  const issues = located.map(({ segments, issue }) => {
    const position = positionOf(doc, lineCounter, segments);
    return position === undefined ? issue : { ...issue, line: position.line, column: position.column };
  });
  throw new ConfigError(issues, source);
}

/** The path of the first value that contains itself (YAML aliases can build cycles), or null for a tree. */
function aliasCycle(tree: unknown): (string | number)[] | null {
  const ancestors = new Set<object>();
  const visit = (node: unknown, at: (string | number)[]): (string | number)[] | null => {
    if (node === null || typeof node !== 'object' || node instanceof Date || node instanceof Uint8Array) return null;
    if (ancestors.has(node)) return at;
    ancestors.add(node);
    const entries: [string | number, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
    for (const [key, child] of entries) {
      const found = visit(child, [...at, key]);
      if (found !== null) return found;
    }
    ancestors.delete(node);
    return null;
  };
  return visit(tree, []);
}

function readError(error: unknown, path: string): ConfigError {
  const code = error !== null && typeof error === 'object' && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  const reason = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read the file${code === undefined ? '' : ` (${code})`}`;
  return new ConfigError([{ path: '', message: reason }], path);
}

/** Reads and validates a config file. Throws ConfigError (also when the file cannot be read). */
export async function loadConfigFile(path: string, env: Env = process.env): Promise<ReplicationConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw readError(error, path);
  }
  return parseConfigText(text, { source: path, env });
}

/** Synchronous loadConfigFile, for the CLI's `check` command and start-up paths that cannot await. */
export function loadConfigFileSync(path: string, env: Env = process.env): ReplicationConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw readError(error, path);
  }
  return parseConfigText(text, { source: path, env });
}
