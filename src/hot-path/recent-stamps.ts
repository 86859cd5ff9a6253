/**
 * What the local store is known to hold, for recently applied keys: after an apply, a key's
 * local stamp is at least the stamp of the change applied to it (or refused as stale or as a
 * duplicate). In a mesh each change reaches a node once from its origin and again from every
 * other peer that applied and re-emitted it (DESIGN §4); a copy whose stamp is not newer than the
 * one known here would be refused by the store's last-writer-wins anyway, so the hot path drops it
 * from its meta alone: no decompression, no hash check, no trip to Redis.
 *
 * Shared by all of an engine's tailers (the copies come from different peers). Bounded: the least
 * recently recorded keys are forgotten, which only costs their next copy a full apply. Valid while
 * the local store keeps its data: a local stamp only ever grows (a tombstone collected after its
 * TTL leaves no stamp, and dropping a copy older than it is what the tombstone was for). When the
 * local Redis loses its data the engine clears it (see ReplicationEngine.onLocalDataLoss).
 *
 * Pure logic: no I/O, unit- and property-tested.
 */
import { compareStamps, type Stamp } from '../model/stamp.js';

/** Keys remembered by default: several seconds of a busy mesh's changes, a few MB. */
export const DEFAULT_RECENT_STAMPS = 16_384;

export class RecentStamps {
  readonly capacity: number;
  /** Insertion order is recency order: a recorded key is moved to the end. */
  private readonly stamps = new Map<string, Stamp>();

  constructor(capacity = DEFAULT_RECENT_STAMPS) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError('RecentStamps capacity must be a non-negative integer');
    this.capacity = capacity;
  }

  get size(): number {
    return this.stamps.size;
  }

  /** The local store holds `key` at `stamp` or later. */
  record(key: string, stamp: Stamp): void {
    if (this.capacity === 0) return;
    const known = this.stamps.get(key);
    if (known !== undefined) {
      this.stamps.delete(key);
      if (compareStamps(known, stamp) >= 0) stamp = known;
    } else if (this.stamps.size >= this.capacity) {
      // The oldest entry: a Map iterates in insertion order.
      const oldest = this.stamps.keys().next();
      if (!oldest.done) this.stamps.delete(oldest.value);
    }
    this.stamps.set(key, { hlc: stamp.hlc, origin: stamp.origin });
  }

  /** True when a change to `key` with `stamp` would lose to, or equal, what the store holds. */
  covers(key: string, stamp: Stamp): boolean {
    const known = this.stamps.get(key);
    return known !== undefined && compareStamps(stamp, known) <= 0;
  }

  /** Forgets everything (the local store lost its data). */
  clear(): void {
    this.stamps.clear();
  }
}
