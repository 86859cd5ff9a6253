/**
 * Assembles a store script's source from its file and the include files it names, as BullMQ does:
 * a line `--- @include "name"` pulls in `includes/<name>.lua` (and, first, what that one includes),
 * each include once, in dependency order. The result starts with the `#!lua` shebang, so Redis
 * knows the script's flags before it runs: it refuses a writing script up front when at maxmemory
 * instead of at its first write, and refuses undeclared keys of another cluster slot.
 *
 * Pending changes: `includes/tree.lua` and `includes/indexes.lua` gather a script's tree and index
 * changes, and `includes/pending.lua` writes them once, in `flush_pending(p)`. A script that pulls in
 * either must call that; `assemble` refuses one that does not, so a forgotten flush is an error at
 * load, not a torn tree.
 */
import { readFileSync } from 'node:fs';

const INCLUDE = /^--- @include "([a-z0-9-]+)"\s*$/;
const FLAGS = /^--- @flags ([a-z-]+(?:,[a-z-]+)*)\s*$/;
/** Includes that gather pending changes: a script that pulls in either must call flush_pending(p). */
const GATHERING_INCLUDES = ['tree', 'indexes'];
const FLUSH_CALL = /\bflush_pending\(p\)/;

const DIRECTIVE = /^--- @/;

/** A script's source cannot be assembled: a bad directive, a cycle, a missing flush. A bug, caught at load. */
export class LuaSourceError extends Error {
  readonly code = 'lua_source';
  constructor(message: string) {
    super(message);
    this.name = 'LuaSourceError';
  }
}

export type ReadLua = (relativePath: string) => string;

/** Reads the .lua files beside this module (dist/ gets them from scripts/copy-lua.mjs). */
export const readBesideModule: ReadLua = (relativePath) => readFileSync(new URL(`./${relativePath}`, import.meta.url), 'utf8');

export interface AssembledScript {
  readonly source: string;
  /** The includes in the order they were inlined. */
  readonly includes: readonly string[];
}

export function assemble(name: string, read: ReadLua = readBesideModule): AssembledScript {
  const included: string[] = [];
  const parts: string[] = [];
  const visiting = new Set<string>();

  const inline = (include: string): void => {
    if (included.includes(include)) return;
    if (visiting.has(include)) throw new LuaSourceError(`Lua include cycle: ${[...visiting, include].join(' → ')}`);
    visiting.add(include);
    const body = expand(read(`includes/${include}.lua`), `includes/${include}.lua`);
    visiting.delete(include);
    included.push(include);
    parts.push(`-- ── include: ${include} ──\n${body}`);
  };

  /** The file's lines with its include lines inlined before it; `@flags` lines are only for the main script. */
  const expand = (text: string, file: string): string => {
    const own: string[] = [];
    for (const line of text.split('\n')) {
      const include = INCLUDE.exec(line);
      if (include?.[1] !== undefined) inline(include[1]);
      else if (FLAGS.test(line) && file.startsWith('includes/')) throw new LuaSourceError(`${file}: @flags belongs in a script, not an include`);
      else if (DIRECTIVE.test(line) && !FLAGS.test(line)) throw new LuaSourceError(`${file}: "${line}" is not a directive (--- @include "name" or --- @flags a,b)`);
      else own.push(line);
    }
    return own.join('\n');
  };

  const text = read(`${name}.lua`);
  const flags = text.split('\n').map((l) => FLAGS.exec(l)?.[1]).find((f) => f !== undefined);
  const body = expand(text.split('\n').filter((l) => !FLAGS.test(l)).join('\n'), `${name}.lua`);
  const gathering = GATHERING_INCLUDES.filter((i) => included.includes(i));
  if (gathering.length > 0 && !(included.includes('pending') && FLUSH_CALL.test(body))) {
    throw new LuaSourceError(`${name}.lua includes "${gathering.join('", "')}" but never calls flush_pending(p) (from "pending"): its tree and index changes would be lost`);
  }
  const shebang = flags ? `#!lua flags=${flags}` : '#!lua';
  return { source: `${shebang}\n${parts.join('\n')}\n-- ── script: ${name} ──\n${body}`, includes: included };
}
