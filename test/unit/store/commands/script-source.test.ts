import { describe, expect, it } from 'vitest';
import { assemble, type ReadLua } from '../../../../src/store/commands/script-source.js';
import { readdirSync } from 'node:fs';

function files(map: Record<string, string>): ReadLua {
  return (relativePath) => {
    const text = map[relativePath];
    if (text === undefined) throw new Error(`no such file ${relativePath}`);
    return text;
  };
}

describe('assemble (Lua includes)', () => {
  it('inlines each include once, dependencies first, after the shebang', () => {
    const read = files({
      'main.lua': '-- main\n--- @include "b"\n--- @include "a"\nreturn f_a() + f_b()',
      'includes/a.lua': 'local function f_a() return 1 end',
      'includes/b.lua': '--- @include "a"\nlocal function f_b() return f_a() end',
    });
    const { source, includes } = assemble('main', read);
    expect(includes).toEqual(['a', 'b']);
    expect(source.split('\n')[0]).toBe('#!lua');
    expect(source.indexOf('local function f_a')).toBeLessThan(source.indexOf('local function f_b'));
    expect(source.match(/local function f_a/g)).toHaveLength(1);
    expect(source).not.toContain('@include');
  });

  it('puts the script\'s @flags on the shebang, and refuses them in an include', () => {
    expect(assemble('s', files({ 's.lua': '--- @flags no-writes\nreturn 1' })).source.split('\n')[0]).toBe('#!lua flags=no-writes');
    expect(() => assemble('s', files({ 's.lua': '--- @include "x"\nreturn 1', 'includes/x.lua': '--- @flags no-writes' }))).toThrow(/@flags belongs in a script/);
  });

  it('refuses a malformed directive instead of taking it for a comment', () => {
    expect(() => assemble('s', files({ 's.lua': '--- @include tree\nreturn 1' }))).toThrow(/"--- @include tree" is not a directive/);
    expect(() => assemble('s', files({ 's.lua': '--- @flags no writes\nreturn 1' }))).toThrow(/is not a directive/);
  });

  it('refuses an include cycle, naming it', () => {
    const read = files({ 's.lua': '--- @include "x"', 'includes/x.lua': '--- @include "y"', 'includes/y.lua': '--- @include "x"' });
    expect(() => assemble('s', read)).toThrow('Lua include cycle: x → y → x');
  });

  it('refuses a script that gathers tree or index changes and never flushes them', () => {
    const base = { 'includes/tree.lua': '', 'includes/indexes.lua': '', 'includes/pending.lua': '--- @include "tree"\n--- @include "indexes"' };
    expect(() => assemble('s', files({ ...base, 's.lua': '--- @include "tree"\nreturn 1' }))).toThrow(/never calls flush_pending\(p\)/);
    expect(() => assemble('s', files({ ...base, 's.lua': '--- @include "pending"\nreturn 1' }))).toThrow(/"tree", "indexes"/);
    expect(() => assemble('s', files({ ...base, 's.lua': '--- @include "pending"\nflush_pending(p)\nreturn 1' }))).not.toThrow();
  });

  it('assembles every shipped script', () => {
    const dir = new URL('../../../../src/store/commands/', import.meta.url);
    const names = readdirSync(dir).filter((f) => f.endsWith('.lua')).map((f) => f.slice(0, -4));
    expect(names.length).toBeGreaterThan(4);
    for (const name of names) expect(assemble(name).source.startsWith('#!lua')).toBe(true);
  });
});
