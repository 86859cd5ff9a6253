/**
 * The peer's Merkle root, cached for a few seconds (docs/cold-path.md): repeated checks in a short
 * window (on-demand repairs, status) cost no round trip to the peer.
 *
 * A cached root can be stale, and a stale root equal to ours would claim "in sync" while
 * the peer has moved on. Harmless for a periodic check (the next one sees it), but not
 * right after a gap, so repairs asked for by the hot path read through (`fresh`). A fresh
 * read refreshes the cache.
 */
import type { StoreReader } from '../store/local-store.js';

export const DEFAULT_PEER_ROOT_TTL_MS = 5_000;

export class PeerRootCache {
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly roots = new Map<string, { root: string; at: number }>();

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_PEER_ROOT_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** The cached root if younger than the TTL. */
  get(peerId: string): string | null {
    const entry = this.roots.get(peerId);
    if (!entry) return null;
    const age = this.now() - entry.at;
    return age >= 0 && age < this.ttlMs ? entry.root : null;
  }

  set(peerId: string, root: string): void {
    this.roots.set(peerId, { root, at: this.now() });
  }

  invalidate(peerId: string): void {
    this.roots.delete(peerId);
  }

  clear(): void {
    this.roots.clear();
  }

  /** `reader` with `merkleRoot()` answered from the cache (unless `fresh`); every other read passes through. */
  reader(peerId: string, reader: StoreReader, options: { fresh?: boolean } = {}): StoreReader {
    const merkleRoot = async (): Promise<string> => {
      const cached = options.fresh ? null : this.get(peerId);
      if (cached !== null) return cached;
      const root = await reader.merkleRoot();
      this.set(peerId, root);
      return root;
    };
    return {
      treeFormat: () => reader.treeFormat(),
      merkleRoot,
      branchDigests: () => reader.branchDigests(),
      bucketDigests: (branches) => reader.bucketDigests(branches),
      bucketLeaves: (buckets) => reader.bucketLeaves(buckets),
      fetchChanges: (keys) => reader.fetchChanges(keys),
      ...(reader.recordSizes ? { recordSizes: (keys: readonly string[]) => reader.recordSizes!(keys) } : {}),
    };
  }
}
