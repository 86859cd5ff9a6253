/**
 * The engine's lifecycle: stopped → starting → running → stopping → stopped
 * (docs/architecture.md, "The engine, the daemon, the operator").
 */
export type EngineState = 'stopped' | 'starting' | 'running' | 'stopping';

/** Value of the `replication_engine_state` gauge (docs/metrics.md). */
export function engineStateValue(state: EngineState): 0 | 1 | 2 | 3 {
  switch (state) {
    case 'stopped':
      return 0;
    case 'starting':
      return 1;
    case 'running':
      return 2;
    case 'stopping':
      return 3;
  }
}
