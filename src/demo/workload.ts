/**
 * The demo's application traffic: small JSON records put and deleted on every node, over a
 * key space small enough that nodes overwrite and delete each other's keys, plus "hot" keys
 * that all nodes write in the same tick — concurrent conflicting writes that last-writer-wins
 * must settle identically everywhere. Plans are seeded, so a run can be reproduced.
 */
import type { ApplicationStore } from '../store/local-store.js';

export type WorkloadOp =
  | { kind: 'put'; key: string; content: Buffer }
  | { kind: 'delete'; key: string };

/** What one node writes in one tick. */
export interface TickMix {
  puts: number;
  deletes: number;
  /** Also write this tick's hot key (the same key on every node that writes it this tick). */
  hot: boolean;
}

export interface WorkloadOptions {
  seed: number;
  keySpace: number;
  hotKeys: number;
}

const COLOURS = ['amber', 'coral', 'indigo', 'jade', 'lilac', 'ochre', 'rust', 'teal'] as const;

/** mulberry32: a tiny, good-enough seeded PRNG (Math.random cannot be seeded). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function itemKey(n: number): string {
  return `item:${String(n).padStart(4, '0')}`;
}

export function hotKey(n: number): string {
  return `hot:${n}`;
}

export class WorkloadPlanner {
  private readonly options: WorkloadOptions;
  /** One stream of randomness per node: a node's plan does not depend on the others'. */
  private readonly random = new Map<string, () => number>();
  private readonly seq = new Map<string, number>();

  constructor(options: WorkloadOptions) {
    this.options = options;
  }

  plan(node: string, tick: number, mix: TickMix): WorkloadOp[] {
    const rnd = this.randomFor(node);
    const pick = (n: number): number => Math.floor(rnd() * n);
    const ops: WorkloadOp[] = [];
    const record = (key: string): Buffer => {
      const seq = (this.seq.get(node) ?? 0) + 1;
      this.seq.set(node, seq);
      const colour = COLOURS[pick(COLOURS.length)] ?? 'teal';
      return Buffer.from(JSON.stringify({ id: key, city: node, seq, tick, colour }));
    };
    for (let i = 0; i < mix.puts; i++) {
      const key = itemKey(pick(this.options.keySpace));
      ops.push({ kind: 'put', key, content: record(key) });
    }
    for (let i = 0; i < mix.deletes; i++) ops.push({ kind: 'delete', key: itemKey(pick(this.options.keySpace)) });
    if (mix.hot && this.options.hotKeys > 0) {
      const key = hotKey(tick % this.options.hotKeys);
      ops.push({ kind: 'put', key, content: record(key) });
    }
    return ops;
  }

  private randomFor(node: string): () => number {
    let rnd = this.random.get(node);
    if (!rnd) {
      rnd = seededRandom(this.options.seed ^ hashName(node));
      this.random.set(node, rnd);
    }
    return rnd;
  }
}

/** Runs one tick's operations on a node's store (pipelined by ioredis); resolves to how many were done. */
export async function applyOps(store: ApplicationStore, ops: readonly WorkloadOp[]): Promise<number> {
  await Promise.all(ops.map((op) => (op.kind === 'put' ? store.put(op.key, op.content, { contentType: 'json' }) : store.delete(op.key))));
  return ops.length;
}
