/**
 * What the engine reports about itself (`engine.status()`), in the JSON shape the HTTP
 * `/status` route and the `status` command show (docs/http-api.md): snake_case, like the configuration.
 */
import type { LastRepair } from '../cold-path/repair-outcome.js';
import type { CircuitState } from '../peer/circuit-breaker.js';
import type { EngineState } from './engine-state.js';

export interface PeerStatus {
  peer_id: string;
  connected: boolean;
  circuit: CircuitState;
  /** Last stream entry id applied from this peer ("0-0" before the first). */
  cursor: string;
  lag_ms: number;
  lag_events: number;
  catching_up: boolean;
  /** Why the hot path is not reading, if it is not. */
  paused: 'backpressure' | 'circuit_open' | null;
  batch_size: number;
  last_error: string | null;
  last_repair: LastRepair | null;
  /** Hot-path counts since this peer's tailer started (the metrics have them by reason). */
  counters: PeerCounters;
}

export interface PeerCounters {
  events_read: number;
  events_applied: number;
  /** Read but not applied, harmlessly: own-origin echoes, collapsed repeats, stale, duplicate. */
  events_deduped: number;
  /** Bad entries, logged with their id and reason and skipped. */
  events_rejected: number;
  batches: number;
  gaps: number;
}

export interface EngineStatus {
  node_id: string;
  state: EngineState;
  /** Why cursors are not being persisted (the cursor file deleted, replaced, unwritable), or null. */
  cursor_error: string | null;
  peers: PeerStatus[];
}
