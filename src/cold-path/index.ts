/** The cold path: Merkle anti-entropy between this node and each peer (docs/cold-path.md). */
export { compareWithPeer, DEFAULT_BRANCH_CONCURRENCY, type CompareOptions, type DivergenceReport } from './compare.js';
export { classifyKey, diffBucket, divergentIds, isExpiredTombstone, tombstoneHorizon, type DivergentKey, type Winner } from './diff.js';
export { ColdPathError, type ColdPathErrorCode, type ColdPathSide } from './errors.js';
export { DEFAULT_PEER_ROOT_TTL_MS, PeerRootCache } from './peer-root-cache.js';
export {
  DEFAULT_APPLY_CHUNK, refusalReason, repairWithPeer, type RefusalReason, type RejectedChange, type RepairAttempt, type RepairDone,
  type RepairFailed, type RepairOptions, type RepairRefused,
} from './repair.js';
export {
  ColdPathScheduler, type ColdPathPeer, type ColdPathSchedulerOptions, type ColdPathSkipReason, type RepairOutcome, type RepairRan,
  type RepairSkipped,
} from './scheduler.js';
