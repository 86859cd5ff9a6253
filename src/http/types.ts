/** What the HTTP API needs from the rest of the node, and what every handler is given. */
import type { IncomingMessage } from 'node:http';
import type { EngineStatus } from '../engine/engine-status.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { ApplicationStore, SyncEngine } from '../store/sync-engine.js';

/** The local store as the API uses it; `RedisStore` satisfies it. */
export type HttpStore = ApplicationStore &
  Pick<SyncEngine, 'ping' | 'shouldAcceptWrites' | 'keyCount' | 'merkleRoot' | 'nodeId'> & { readonly maxPayloadBytes: number };

export interface HttpServerDeps {
  store: HttpStore;
  /** The `ReplicationEngine` satisfies this. */
  engine: { status(): EngineStatus };
  metrics: EngineMetrics;
  logger: Logger;
}

/** Settings that can change while the server runs (`http.api_token` applies on reload). */
export interface HttpSettings {
  apiToken: string | undefined;
  /** How long `/ready` and `/status` wait for the local store. */
  storeTimeoutMs: number;
}

export interface RequestContext {
  req: IncomingMessage;
  /** Raw query string (no "?"). */
  query: string;
  deps: HttpServerDeps;
  settings: Readonly<HttpSettings>;
}
