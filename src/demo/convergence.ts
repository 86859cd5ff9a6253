/**
 * The demo's verdict: the nodes converged when their Merkle roots are equal AND every node
 * holds exactly the same live records (same keys, each with the same stamp and content
 * hash), read back in full through the application API. Equal roots alone would only say
 * the trees agree; the record-by-record comparison checks what an application would read.
 */
import type { ApplicationStore, StoreReader } from '../store/local-store.js';

export interface NodeData {
  name: string;
  root: string;
  /** key → "hlc origin hash" of its live record. */
  records: Map<string, string>;
}

export interface KeyDifference {
  key: string;
  /** Per node: its record's "hlc origin hash", or null when the key is absent (or deleted) there. */
  values: { name: string; value: string | null }[];
}

export interface ConvergenceReport {
  converged: boolean;
  /** Live keys (of the first node when not converged). */
  keys: number;
  /** The common root, or null when the roots differ. */
  root: string | null;
  roots: { name: string; root: string }[];
  /** Number of keys whose records differ between nodes. */
  differingKeys: number;
  /** The first few of them, in key order. */
  differences: KeyDifference[];
}

const SCAN_PAGE = 1000;

export async function readNodeData(name: string, store: ApplicationStore & Pick<StoreReader, 'merkleRoot'>): Promise<NodeData> {
  const root = await store.merkleRoot();
  const records = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const page = await store.scan({ cursor, limit: SCAN_PAGE });
    for (const r of page.items) records.set(r.key, `${r.hlc} ${r.origin} ${r.hash}`);
    cursor = page.cursor;
  } while (cursor !== null);
  return { name, root, records };
}

export function compareNodes(nodes: readonly NodeData[], limit = 5): ConvergenceReport {
  const roots = nodes.map((n) => ({ name: n.name, root: n.root }));
  const first = nodes[0];
  const sameRoot = first !== undefined && nodes.every((n) => n.root === first.root);
  const allKeys = new Set<string>();
  for (const n of nodes) for (const k of n.records.keys()) allKeys.add(k);
  const differing: string[] = [];
  for (const key of allKeys) {
    const value = first?.records.get(key);
    if (!nodes.every((n) => n.records.get(key) === value)) differing.push(key);
  }
  differing.sort();
  return {
    converged: sameRoot && differing.length === 0,
    keys: first?.records.size ?? 0,
    root: sameRoot && first ? first.root : null,
    roots,
    differingKeys: differing.length,
    differences: differing.slice(0, limit).map((key) => ({
      key,
      values: nodes.map((n) => ({ name: n.name, value: n.records.get(key) ?? null })),
    })),
  };
}

/** What did not converge, for the failure message. */
export function describeDivergence(report: ConvergenceReport): string[] {
  const lines = report.roots.map((r) => `  ${r.name.padEnd(7)} root ${r.root}`);
  if (report.root === null) {
    const groups = new Map<string, string[]>();
    for (const r of report.roots) groups.set(r.root, [...(groups.get(r.root) ?? []), r.name]);
    lines.unshift(`  roots differ: ${[...groups.values()].map((names) => names.join(' = ')).join(' ≠ ')}`);
  }
  if (report.differingKeys > 0) {
    lines.push(`  ${report.differingKeys} key(s) differ${report.differences.length < report.differingKeys ? `; the first ${report.differences.length}` : ''}:`);
    for (const d of report.differences) {
      lines.push(`    ${d.key}: ${d.values.map((v) => `${v.name} ${v.value ?? 'absent'}`).join(' | ')}`);
    }
  }
  return lines;
}
