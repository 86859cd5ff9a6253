export { ReplicationEngine, EngineStateError, type EngineDeps, type ShutdownOptions } from './replication-engine.js';
export type { EngineStatus, PeerStatus, LastRepair } from './engine-status.js';
