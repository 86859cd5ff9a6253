// The hot path applies batches pipelined (several in flight on the store's connection). An apply
// that fails must still never let the cursor pass an entry that is not applied, even though later
// batches were already sent: a crash at any moment must replay everything not yet applied.
import { describe, expect, it } from 'vitest';
import type { CursorStore } from '../../../src/cursor/cursor-store.js';
import { compareStreamIds } from '../../../src/cdc/stream-id.js';
import { ReplicationEngine } from '../../../src/engine/replication-engine.js';
import type { Change } from '../../../src/model/change.js';
import type { ApplyOutcome, LocalStore } from '../../../src/store/local-store.js';
import { waitFor } from '../../support/wait.js';
import { useMesh } from '../../support/use-mesh.js';

const BATCH = 50;
const WRITES = 1500;
/** The apply calls (1-based) that fail after applying the first half of their changes. */
const FAILING_CALLS = new Set([3, 5, 6, 11]);
/** The apply calls that throw at once instead of returning a promise (a store with a bug). */
const THROWING_CALLS = new Set([14]);

/** The real store, with some apply calls failing half-way (a connection lost mid-batch) and one throwing. */
function failingStore(store: LocalStore, fullyApplied: Set<string>): { store: LocalStore; failures: () => number } {
  let calls = 0;
  let failures = 0;
  const applyChanges = (changes: readonly Change[]): Promise<ApplyOutcome[]> => {
    calls++;
    if (THROWING_CALLS.has(calls)) {
      failures++;
      throw new Error(`injected synchronous throw of apply call ${calls}`);
    }
    return applyAsync(changes, calls);
  };
  const applyAsync = async (changes: readonly Change[], call: number): Promise<ApplyOutcome[]> => {
    if (FAILING_CALLS.has(call)) {
      await store.applyChanges(changes.slice(0, Math.floor(changes.length / 2)));
      failures++;
      throw new Error(`injected failure of apply call ${call}`);
    }
    const outcomes = await store.applyChanges(changes);
    for (const c of changes) fullyApplied.add(c.key);
    return outcomes;
  };
  const wrapped = new Proxy(store, {
    get: (target, prop, receiver) => (prop === 'applyChanges' ? applyChanges : Reflect.get(target, prop, receiver) as unknown),
  });
  return { store: wrapped, failures: () => failures };
}

/** Cursors in memory that check, at every save, that each entry up to it was applied. */
class CheckingCursors implements CursorStore {
  readonly violations: string[] = [];
  readonly saves: string[] = [];
  private readonly saved = new Map<string, string>();
  constructor(
    private readonly entries: readonly { id: string; key: string }[],
    private readonly applied: ReadonlySet<string>,
  ) {}
  get(peerId: string): string | null {
    return this.saved.get(peerId) ?? null;
  }
  set(peerId: string, streamId: string): void {
    for (const e of this.entries) {
      if (compareStreamIds(e.id, streamId) > 0) break;
      if (!this.applied.has(e.key)) this.violations.push(`cursor ${streamId} saved before ${e.id} (${e.key}) was applied`);
    }
    this.saves.push(streamId);
    this.saved.set(peerId, streamId);
  }
  delete(peerId: string): void {
    this.saved.delete(peerId);
  }
  all(): Map<string, string> {
    return new Map(this.saved);
  }
  close(): void {}
}

describe('hot path: a failing apply with batches in flight', () => {
  const mesh = useMesh({ nodes: 2, start: false, settings: { hot_path: { batch_size: BATCH } } });

  it('never saves a cursor past an unapplied entry, and applies everything after retrying', async () => {
    const source = mesh().node(0);
    for (let k = 0; k < WRITES; k++) await source.store.put(`k/${k}`, Buffer.from(`value ${k}`));
    const stream = await source.store.client.xrange(`${source.prefix}cdc`, '-', '+');
    const entries = stream.map(([id, fields]) => ({ id, key: fields[fields.indexOf('key') + 1]! }));
    expect(entries).toHaveLength(WRITES);

    const target = mesh().node(1);
    const fullyApplied = new Set<string>();
    const { store, failures } = failingStore(target.store, fullyApplied);
    const cursors = new CheckingCursors(entries, fullyApplied);
    target.engine = new ReplicationEngine(target.config, { store, cursors });
    await target.engine.start();

    const head = entries[entries.length - 1]!.id;
    await waitFor(() => target.engine.status().peers[0]!.cursor === head, { what: 'cursor at the stream head', timeoutMs: 30_000 });
    expect(failures()).toBe(FAILING_CALLS.size + THROWING_CALLS.size);
    expect(cursors.violations).toEqual([]);
    // Saved cursors only move forward.
    for (let i = 1; i < cursors.saves.length; i++) expect(compareStreamIds(cursors.saves[i - 1]!, cursors.saves[i]!)).toBeLessThan(0);
    expect(await target.store.keyCount()).toBe(WRITES);
    expect(await target.store.merkleRoot()).toBe(await source.store.merkleRoot());
  });
});
