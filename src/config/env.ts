/**
 * `${VAR}` / `${VAR:-default}` substitution, applied to the parsed YAML tree's string values
 * (never to the text): a secret containing `"`, `:` or a newline cannot change the document's
 * structure, and substituted values are not scanned again, so a secret containing `${` stays
 * literal. `$${` writes a literal `${`. Keys are never substituted.
 */
import type { ConfigPath } from './path.js';

export type Env = Readonly<Record<string, string | undefined>>;

export type SubstitutionResult = { ok: true; value: string } | { ok: false; message: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Substitutes every reference in one string. `${VAR:-default}` uses the default when VAR is
 * unset or empty (as in POSIX shells). Messages name the variable, never its value.
 */
export function substituteString(value: string, env: Env): SubstitutionResult {
  let out = '';
  let i = 0;
  while (i < value.length) {
    if (value.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!value.startsWith('${', i)) {
      out += value[i];
      i += 1;
      continue;
    }
    const close = value.indexOf('}', i + 2);
    if (close < 0) return { ok: false, message: 'unterminated ${ (write $${ for a literal ${)' };
    const body = value.slice(i + 2, close);
    const separator = body.indexOf(':-');
    const name = separator < 0 ? body : body.slice(0, separator);
    const fallback = separator < 0 ? undefined : body.slice(separator + 2);
    if (!NAME.test(name)) {
      return { ok: false, message: 'invalid ${…} reference: expected ${NAME} or ${NAME:-default}, NAME made of letters, digits and _' };
    }
    if (fallback !== undefined && fallback.includes('${')) {
      return { ok: false, message: `nested references are not supported in the default of \${${name}:-…}` };
    }
    const set = env[name];
    if (set !== undefined && (set !== '' || fallback === undefined)) out += set;
    else if (fallback !== undefined) out += fallback;
    else return { ok: false, message: `environment variable ${name} is not set (write \${${name}:-default} to give a default)` };
    i = close + 1;
  }
  return { ok: true, value: out };
}

/** Escapes a literal string so that substitution gives it back unchanged. */
export function escapeEnvReferences(value: string): string {
  // A function replacement: in a replacement string "$$" would itself mean "$".
  return value.replaceAll('${', () => '$${');
}

export interface EnvIssue {
  path: ConfigPath;
  message: string;
}

/** Substitutes every string value in a plain tree (objects, arrays, scalars), collecting every failure. */
export function substituteEnvInTree(tree: unknown, env: Env, path: ConfigPath = []): { value: unknown; issues: EnvIssue[] } {
  const issues: EnvIssue[] = [];
  const visit = (node: unknown, at: ConfigPath): unknown => {
    if (typeof node === 'string') {
      const result = substituteString(node, env);
      if (result.ok) return result.value;
      issues.push({ path: at, message: result.message });
      return node;
    }
    if (Array.isArray(node)) return node.map((item, index) => visit(item, [...at, index]));
    if (node !== null && typeof node === 'object' && !(node instanceof Date) && !(node instanceof Uint8Array)) {
      // fromEntries defines own properties, so a "__proto__" key stays a plain (unknown) key.
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, visit(child, [...at, key])]));
    }
    return node;
  };
  const value = visit(tree, path);
  return { value, issues };
}
