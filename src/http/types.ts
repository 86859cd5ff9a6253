/** What the HTTP API needs from the rest of the node, and what every handler is given. */
import type { IncomingMessage } from 'node:http';
import type { EngineStatus } from '../engine/engine-status.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { Logger } from '../observability/logger.js';
import type { ApplicationStore, LocalStore } from '../store/local-store.js';
import type { BodyBudget } from './body-budget.js';

/** The local store as the API uses it; `RedisStore` satisfies it. */
export type HttpStore = ApplicationStore &
  Pick<LocalStore, 'ping' | 'shouldAcceptWrites' | 'keyCount' | 'merkleRoot' | 'nodeId'> & { readonly maxPayloadBytes: number };

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
  /** How long any request waits for the local store (`http.store_timeout`). */
  storeTimeoutMs: number;
  /** Deepest nesting accepted in a JSON body (`http.max_json_depth`). */
  maxJsonDepth: number;
}

export interface RequestContext {
  req: IncomingMessage;
  /** Raw query string (no "?"). */
  query: string;
  deps: HttpServerDeps;
  settings: Readonly<HttpSettings>;
  /** Request body bytes held across all requests (`http.max_inflight_body_bytes`). */
  budget: BodyBudget;
}
