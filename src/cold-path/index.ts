/** The cold path: Merkle anti-entropy between this node and each peer (docs/cold-path.md). */
export { compareWithPeer, DEFAULT_BRANCH_CONCURRENCY, type CompareOptions, type DivergenceReport } from './compare.js';
export { classifyKey, diffBucket, divergentIds, isExpiredTombstone, tombstoneHorizon, type DivergentKey, type Winner } from './diff.js';
export { ColdPathError, type ColdPathErrorCode, type ColdPathSide } from './errors.js';
export { DEFAULT_PEER_ROOT_TTL_MS, PeerRootCache } from './peer-root-cache.js';
export {
  DEFAULT_APPLY_CHUNK, refusalReason, repairWithPeer, type RefusalReason, type RejectedChange, type RepairOptions, type RepairRun,
} from './repair.js';
export type { ColdPathSkipReason, LastRepair, RepairOutcome, RepairResult } from './repair-outcome.js';
export type { RepairReason, RepairTrigger } from './repair-policy.js';
export { ColdPathScheduler, type ColdPathPeer, type ColdPathSchedulerOptions } from './scheduler.js';
