export { ReplicationEngine, EngineStateError, type EngineDeps, type ShutdownOptions } from './replication-engine.js';
export type { EngineState } from './engine-state.js';
export type { EngineStatus, PeerCounters, PeerStatus } from './engine-status.js';
