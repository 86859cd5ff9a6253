/**
 * What the engine reports about itself (`engine.status()`), in the JSON shape the HTTP
 * `/status` route and the `status` command show (docs/http-api.md): snake_case, like the
 * configuration. `peerStatus` projects one peer's runtime onto it.
 */
import type { LastRepair } from '../cold-path/repair-outcome.js';
import type { StreamTailer } from '../hot-path/tailer.js';
import type { CircuitState } from '../peer/circuit-breaker.js';
import type { EngineState } from './engine-state.js';
import type { PeerRuntime } from './peer-runtime.js';

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

type TailerCounters = ReturnType<StreamTailer['status']>['counters'];
/** `eventsRead` → `events_read`. */
type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

/**
 * The tailer's counters under their snake_case names: events_read, events_applied, events_deduped
 * (read but not applied, harmlessly: own-origin echoes, collapsed repeats, stale, duplicate),
 * events_rejected (bad entries, logged with their id and reason and skipped), batches, gaps.
 */
export type PeerCounters = { [K in keyof TailerCounters & string as SnakeCase<K>]: TailerCounters[K] };

export function peerCounters(counters: TailerCounters): PeerCounters {
  const entries = Object.entries(counters).map(([name, value]) => [name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]);
  return Object.fromEntries(entries) as PeerCounters;
}

export interface EngineStatus {
  node_id: string;
  state: EngineState;
  /** Why cursors are not being persisted (the cursor file deleted, replaced, unwritable), or null. */
  cursor_error: string | null;
  peers: PeerStatus[];
}

/** One peer's status: its connection, circuit and tailer, and the cold path's last repair with it. */
export function peerStatus(runtime: PeerRuntime, lastRepair: LastRepair | null): PeerStatus {
  const tailer = runtime.tailer.status();
  return {
    peer_id: runtime.peerId,
    connected: runtime.connection.connected,
    circuit: runtime.breaker.state,
    cursor: tailer.cursor,
    lag_ms: tailer.lagMs,
    lag_events: tailer.lagEvents,
    catching_up: runtime.hotPathEnabled && tailer.catchingUp,
    paused: tailer.paused,
    batch_size: tailer.batchSize,
    last_error: runtime.refusedBecause ?? runtime.connection.downCause ?? tailer.lastError,
    last_repair: lastRepair,
    counters: peerCounters(tailer.counters),
  };
}
