/**
 * Merkle drill-down between our tree and a peer's (docs/cold-path.md): roots → branches →
 * buckets → leaves, reading only what differs, and deciding per key who wins on stamps
 * alone — no content is fetched here. The repair (repair.ts) and the `verify` command
 * build on it.
 *
 * Work is bounded: one round trip when the roots match; otherwise one for the branch
 * digests, then per group of ≤ `branchConcurrency` divergent branches one read (a script) of
 * their bucket digests, and pipelined leaf reads of the divergent buckets in chunks.
 * Local and peer reads of the same level run in parallel and count as one round trip.
 */
import { ValidationError } from '../errors.js';
import { branchOfBucket } from '../merkle/tree-shape.js';
import type { LeafStamp, StoreReader } from '../store/local-store.js';
import { divergentIds, diffBucket, rotateFrom, type DivergentKey } from './diff.js';
import { onSide } from './errors.js';

export const DEFAULT_BRANCH_CONCURRENCY = 8;
/** Buckets per pipelined leaf read: ~15 keys each in a 1M-key store, so ~2k leaves a read. */
export const DEFAULT_BUCKET_CHUNK = 128;

export interface CompareOptions {
  /** Stop once this many keys the peer wins are collected (`truncated` is then set). Default unlimited. */
  maxKeys?: number;
  /** Branches whose bucket digests are read in one pipelined call. Default 8. */
  branchConcurrency?: number;
  /** Tombstones with an hlc below this count as absent on both sides (see diff.ts). Default none. */
  tombstoneHorizonHlc?: string | null;
  /** Drill into divergent branches starting from this one (wrapping around): a budget-cut repair resumes here. */
  startBranch?: string | null;
  /**
   * Repair mode: skip subtrees the peer does not have (they can only hold keys we win) and
   * list only the keys the peer wins, plus conflicts. `localWins` then counts only the
   * local winners met in buckets that were read. Default false (a complete report).
   */
  peerWinsOnly?: boolean;
  /** Roots the caller already read (in one round trip with other checks); they are not read again. */
  roots?: { local: string; peer: string };
  /** Buckets per pipelined leaf read. Default 128. */
  bucketChunkSize?: number;
}

export interface DivergenceReport {
  inSync: boolean;
  localRoot: string;
  peerRoot: string;
  /** Branches whose digest differs (or that one side lacks). */
  divergentBranches: number;
  /** Divergent buckets found in the branches drilled into (all of them unless truncated). */
  divergentBuckets: number;
  /** Divergent keys in drill-down order (branch, bucket, key). */
  keys: DivergentKey[];
  peerWins: number;
  localWins: number;
  /** Same stamp, different leaf: impossible under the model; reported as winner 'equal' and left alone. */
  conflicts: number;
  /** True when more keys the peer wins exist than `maxKeys` allowed to collect. */
  truncated: boolean;
  /** Where a cut-short drill-down stopped (a branch id), for the next cycle to start there; null when complete. */
  resumeBranch: string | null;
  /** Sequential waits on Redis (parallel local + peer reads of one level count once). */
  roundTrips: number;
}

const EMPTY_DIGESTS: ReadonlyMap<string, string> = new Map();

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function assertCount(value: number, field: string, min: number): void {
  if (value === Number.POSITIVE_INFINITY) return;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ValidationError('invalid_option', field, `must be an integer ≥ ${min}, got ${value}`);
  }
}

export async function compareWithPeer(local: StoreReader, peer: StoreReader, options: CompareOptions = {}): Promise<DivergenceReport> {
  const maxKeys = options.maxKeys ?? Number.POSITIVE_INFINITY;
  const concurrency = options.branchConcurrency ?? DEFAULT_BRANCH_CONCURRENCY;
  const bucketChunk = options.bucketChunkSize ?? DEFAULT_BUCKET_CHUNK;
  assertCount(maxKeys, 'maxKeys', 0);
  assertCount(concurrency, 'branchConcurrency', 1);
  assertCount(bucketChunk, 'bucketChunkSize', 1);
  const horizon = options.tombstoneHorizonHlc ?? null;
  const peerWinsOnly = options.peerWinsOnly ?? false;

  const [localRoot, peerRoot] = options.roots
    ? [options.roots.local, options.roots.peer]
    : await Promise.all([onSide('local', 'root read', () => local.merkleRoot()), onSide('peer', 'root read', () => peer.merkleRoot())]);
  const report: DivergenceReport = {
    inSync: localRoot === peerRoot,
    localRoot,
    peerRoot,
    divergentBranches: 0,
    divergentBuckets: 0,
    keys: [],
    peerWins: 0,
    localWins: 0,
    conflicts: 0,
    truncated: false,
    resumeBranch: null,
    roundTrips: 1,
  };
  if (report.inSync) return report;

  const [localBranches, peerBranches] = await Promise.all([
    onSide('local', 'branch digests read', () => local.branchDigests()),
    onSide('peer', 'branch digests read', () => peer.branchDigests()),
  ]);
  report.roundTrips++;
  let branches = rotateFrom(divergentIds(localBranches, peerBranches), options.startBranch);
  report.divergentBranches = branches.length;
  if (peerWinsOnly) branches = branches.filter((b) => peerBranches.has(b));

  for (const group of chunks(branches, concurrency)) {
    const localIds = group.filter((b) => localBranches.has(b));
    const peerIds = group.filter((b) => peerBranches.has(b));
    const [localBuckets, peerBuckets] = await Promise.all([
      localIds.length ? onSide('local', 'bucket digests read', () => local.bucketDigests(localIds)) : new Map<string, Map<string, string>>(),
      peerIds.length ? onSide('peer', 'bucket digests read', () => peer.bucketDigests(peerIds)) : new Map<string, Map<string, string>>(),
    ]);
    report.roundTrips++;

    const localHas = new Set<string>();
    const peerHas = new Set<string>();
    let buckets: string[] = [];
    for (const branch of group) {
      const l = localBuckets.get(branch) ?? EMPTY_DIGESTS;
      const p = peerBuckets.get(branch) ?? EMPTY_DIGESTS;
      for (const bucket of divergentIds(l, p)) {
        buckets.push(bucket);
        if (l.has(bucket)) localHas.add(bucket);
        if (p.has(bucket)) peerHas.add(bucket);
      }
    }
    report.divergentBuckets += buckets.length;
    if (peerWinsOnly) buckets = buckets.filter((b) => peerHas.has(b));

    for (const chunk of chunks(buckets, bucketChunk)) {
      const localRead = chunk.filter((b) => localHas.has(b));
      const peerRead = chunk.filter((b) => peerHas.has(b));
      const [localLeaves, peerLeaves] = await Promise.all([
        localRead.length ? onSide('local', 'leaves read', () => local.bucketLeaves(localRead)) : new Map<string, Map<string, LeafStamp>>(),
        peerRead.length ? onSide('peer', 'leaves read', () => peer.bucketLeaves(peerRead)) : new Map<string, Map<string, LeafStamp>>(),
      ]);
      report.roundTrips++;
      for (const bucket of chunk) {
        for (const d of diffBucket(localLeaves.get(bucket), peerLeaves.get(bucket), horizon)) {
          if (d.winner === 'peer') {
            if (report.peerWins >= maxKeys) {
              // One more winner than the budget: there is more to do; the next cycle starts here.
              report.truncated = true;
              report.resumeBranch = branchOfBucket(bucket);
              return report;
            }
            report.peerWins++;
            report.keys.push(d);
          } else if (d.winner === 'local') {
            report.localWins++;
            if (!peerWinsOnly) report.keys.push(d);
          } else {
            report.conflicts++;
            report.keys.push(d);
          }
        }
      }
    }
  }
  return report;
}
