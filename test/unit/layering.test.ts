// The layering of src/: no two folders import each other, directly or through others (docs/architecture.md,
// "Module map"). A cycle between folders means two concepts that cannot be understood, or changed, apart.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../../src/', import.meta.url).pathname;
const IMPORT = /(?:from|import)\s*\(?\s*'(\.[^']+)'/g;

/** folder → the folders its files import from (top-level files of src/ are left out). */
function folderImports(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  const folderOf = (file: string): string | null => {
    const parts = path.relative(SRC, file).split(path.sep);
    return parts.length > 1 ? parts[0]! : null;
  };
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const from = folderOf(file);
    if (from === null) continue;
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const to = folderOf(path.resolve(path.dirname(file), match[1]!));
      if (to !== null && to !== from) edges.set(from, (edges.get(from) ?? new Set()).add(to));
    }
  }
  return edges;
}

/** One cycle through `start`, or null: a depth-first search for a path back to it. */
function cycleThrough(start: string, edges: Map<string, Set<string>>): string[] | null {
  const seen = new Set<string>();
  const walk = (node: string, trail: string[]): string[] | null => {
    for (const next of edges.get(node) ?? []) {
      if (next === start) return [...trail, next];
      if (seen.has(next)) continue;
      seen.add(next);
      const found = walk(next, [...trail, next]);
      if (found) return found;
    }
    return null;
  };
  return walk(start, [start]);
}

describe('src/ layering', () => {
  it('reads the imports of every folder', () => {
    const edges = folderImports();
    expect(edges.get('store')?.has('model')).toBe(true);
    expect(edges.get('hot-path')?.has('store')).toBe(true);
  });

  it('has no cycle between folders', () => {
    const edges = folderImports();
    const cycles = [...edges.keys()].map((f) => cycleThrough(f, edges)).filter((c) => c !== null).map((c) => c.join(' → '));
    expect(cycles).toEqual([]);
  });
});
