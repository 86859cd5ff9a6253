/**
 * The listener's limits against slow, stalled and abusive clients (`http.*`,
 * docs/configuration.md). Node's defaults let a client hold a connection and its buffered
 * body for 300 s and accept any number of connections.
 */
import type http from 'node:http';
import { DEFAULTS } from '../defaults.js';

export interface HttpLimits {
  /** Open connections at most; one more is closed as soon as it is accepted. */
  maxConnections: number;
  /** Request body bytes held at once across all requests. */
  maxInflightBodyBytes: number;
  maxJsonDepth: number;
  /** Time to receive the request headers (Node answers 408 and closes). */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included (408 and close). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** How long a request waits for the local Redis (503). */
  storeTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = DEFAULTS.http;

/** The `http` section of a configuration as limits. */
export function limitsFromConfig(http: {
  max_connections: number; max_inflight_body_bytes: number; max_json_depth: number; headers_timeout: number;
  request_timeout: number; keep_alive_timeout: number; store_timeout: number;
}): HttpLimits {
  return {
    maxConnections: http.max_connections,
    maxInflightBodyBytes: http.max_inflight_body_bytes,
    maxJsonDepth: http.max_json_depth,
    headersTimeoutMs: http.headers_timeout,
    requestTimeoutMs: http.request_timeout,
    keepAliveTimeoutMs: http.keep_alive_timeout,
    storeTimeoutMs: http.store_timeout,
  };
}

/**
 * How often Node checks the header and request deadlines (fixed when the server is made;
 * Node's default of 30 s would let a stalled request outlive a shorter timeout by that much).
 */
export function checkingIntervalMs(limits: HttpLimits): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)));
}

/** Applies the connection limits to a live server (at start and on reload). */
export function applyServerLimits(server: http.Server, limits: HttpLimits): void {
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
}
