/**
 * The tailer's seams (docs/hot-path.md): what it is given, how it is set, what it reports.
 */
import type { CursorStore } from '../cursor/cursor-store.js';
import type { HotPathSettings, SloSettings } from '../config/types.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { SloMonitor } from '../observability/slo.js';
import type { CircuitBreaker } from '../peer/circuit-breaker.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import type { LocalStore } from '../store/local-store.js';
import type { GapKind } from './gap.js';
import type { RecentStamps } from './recent-stamps.js';
import type { TailerCounters } from './tailer-metrics.js';
import type { PauseReason } from './tailer-state.js';

export interface TailerSettings {
  hotPath: HotPathSettings;
  slo: SloSettings;
  maxPayloadBytes: number;
  maxClockSkewMs: number;
  /** store.max_future_skew: entries stamped further ahead of the wall clock are held back (see prepare-batch). */
  maxFutureSkewMs: number;
  memoryPollIntervalMs: number;
}

/** Why the hot path asks the cold path for a repair: a gap, or changes it held back as too far ahead. */
export type HotPathRepairReason = GapKind | 'future_stamp';

export interface TailerDeps {
  peerId: string;
  localNodeId: string;
  connection: PeerConnection;
  store: LocalStore;
  cursors: CursorStore;
  breaker: CircuitBreaker;
  metrics: EngineMetrics;
  logger: Logger;
  slo: SloMonitor;
  /** Asks the cold path to repair with this peer now (a gap the hot path cannot fill). */
  requestRepair: (peerId: string, reason: HotPathRepairReason) => void;
  /** Stamps the local store is known to hold, shared by the engine's tailers (see RecentStamps). */
  recentStamps?: RecentStamps;
  now?: () => number;
}

export interface TailerStatus {
  running: boolean;
  cursor: string;
  lagMs: number;
  lagEvents: number;
  catchingUp: boolean;
  batchSize: number;
  paused: PauseReason | null;
  lastError: string | null;
  /** When entries last arrived from the peer (ms); null before the first. Idle peers get health pings. */
  lastEventAt: number | null;
  /** Since this tailer started (the metrics carry the same counts, labelled by reason). */
  counters: TailerCounters;
}
