/**
 * What happened to the local store's data between two checks (pure logic; LocalStoreWatch in
 * local-store-watch.ts runs the checks). The store's data carries an incarnation id (made once per
 * dataset) and an epoch (advanced by every check); the server carries a run id (new per start).
 *
 *   lost         a new incarnation: the data was flushed, or Redis came back without it
 *   went_back    same incarnation, epoch not above the last one seen: the data is an older copy
 *                (a restart from an older RDB/AOF snapshot, a failover to a lagging replica)
 *   restarted    same data, newer epoch, new server run id: Redis restarted from a snapshot taken
 *                after the last check; the writes of its last moments may still be missing
 *
 * Every one of them ends the same way (forget the recent stamps, repair from every peer); they
 * differ in what is logged and counted. An epoch more than one ahead is not a loss: the reply of a
 * check can be lost after Redis ran it.
 */
import type { StoreDataState } from '../store/local-store.js';

export type LocalDataChange =
  | { kind: 'lost' | 'went_back'; reason: string }
  | { kind: 'restarted'; reason: string };

export function localDataChange(last: StoreDataState, now: StoreDataState): LocalDataChange | null {
  if (now.incarnation !== last.incarnation) {
    return { kind: 'lost', reason: 'the local store was replaced by an empty one (flushed, or Redis restarted without its data)' };
  }
  if (now.epoch <= last.epoch) {
    return {
      kind: 'went_back',
      reason: `the local store went back in time (epoch ${now.epoch}, last seen ${last.epoch}): Redis was restored from an older snapshot or failed over to a lagging replica`,
    };
  }
  if (now.serverRunId !== null && last.serverRunId !== null && now.serverRunId !== last.serverRunId) {
    return { kind: 'restarted', reason: 'the local Redis restarted: the writes of its last moments before the restart may be missing' };
  }
  return null;
}
