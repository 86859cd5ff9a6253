/**
 * The oracle: a pure in-memory last-writer-wins model of a store. Every store, every node
 * of a converged mesh, must hold exactly what this model holds for the same set of changes.
 */
import type { Change } from '../../src/model/change.js';
import { compareStamps } from '../../src/model/stamp.js';
import type { LeafStamp } from '../../src/store/local-store.js';
import { rootOf } from '../../src/merkle/tree-shape.js';

export class LwwModel {
  readonly winners = new Map<string, Change>();

  apply(change: Change): void {
    const cur = this.winners.get(change.key);
    if (!cur || compareStamps(change, cur) > 0) this.winners.set(change.key, change);
  }

  applyAll(changes: Iterable<Change>): this {
    for (const c of changes) this.apply(c);
    return this;
  }

  /** Live records: key → content hash + stamp. */
  live(): Map<string, { hash: string; hlc: string; origin: string }> {
    const out = new Map<string, { hash: string; hlc: string; origin: string }>();
    for (const [k, c] of this.winners) if (c.op === 'PUT') out.set(k, { hash: c.hash, hlc: c.hlc, origin: c.origin });
    return out;
  }

  leaves(): Map<string, LeafStamp> {
    const out = new Map<string, LeafStamp>();
    for (const [k, c] of this.winners) {
      out.set(k, { hlc: c.hlc, origin: c.origin, hash: c.op === 'PUT' ? c.hash : '', deleted: c.op === 'DEL' });
    }
    return out;
  }

  root(): string {
    return rootOf(this.leaves());
  }
}
