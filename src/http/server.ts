/** The node's HTTP listener (`node:http`, no framework): start, per-request error boundary, close. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { parseListenAddress, type ListenAddress } from '../config/listen-address.js';
import { ValidationError } from '../errors.js';
import { startServerSpan } from '../observability/http-span.js';
import { BodyBudget } from './body-budget.js';
import { expectedErrorReply, HttpError, INTERNAL_ERROR_REPLY } from './errors.js';
import { applyServerLimits, checkingIntervalMs, DEFAULT_HTTP_LIMITS, type HttpLimits } from './limits.js';
import { writeReply, type Reply } from './reply.js';
import { dispatch } from './router.js';
import type { HttpServerDeps, HttpSettings } from './types.js';

export const DEFAULT_STORE_TIMEOUT_MS = DEFAULT_HTTP_LIMITS.storeTimeoutMs;
/** In-flight requests get this long after close() before their connections are cut. */
const CLOSE_GRACE_MS = 5000;

export interface HttpServerOptions {
  /** `host:port`, see parseListenAddress; port 0 picks a free port. */
  listen: string;
  /** When set, `/v1/*` requires `Authorization: Bearer <apiToken>`. */
  apiToken?: string;
  /** Timeout of every store call behind a request. Default 2000; overrides `limits.storeTimeoutMs`. */
  storeTimeoutMs?: number;
  /** Connection, body and time limits (limits.ts); defaults for what is left out. */
  limits?: Partial<HttpLimits>;
}

export interface HttpServerHandle {
  /** e.g. `http://127.0.0.1:8790` (IPv6 hosts in brackets). */
  readonly url: string;
  readonly port: number;
  /** Applies a reloaded `http.api_token` (undefined: no auth) to the following requests. */
  setApiToken(token: string | undefined): void;
  /** Applies reloaded limits to the following connections and requests. */
  setLimits(limits: Partial<HttpLimits>): void;
  /** Stops accepting, lets in-flight requests finish (bounded), resolves when closed. Idempotent. */
  close(): Promise<void>;
}

export async function startHttpServer(deps: HttpServerDeps, options: HttpServerOptions): Promise<HttpServerHandle> {
  const address = parseListenAddress(options.listen);
  if (address === undefined) throw new ValidationError('invalid_listen', 'listen', `"${options.listen}" is not host:port`);
  let limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  if (options.storeTimeoutMs !== undefined) limits.storeTimeoutMs = options.storeTimeoutMs;
  const settings: HttpSettings = {
    apiToken: checkedToken(options.apiToken),
    storeTimeoutMs: limits.storeTimeoutMs,
    maxJsonDepth: limits.maxJsonDepth,
  };
  const budget = new BodyBudget(limits.maxInflightBodyBytes);
  const server = http.createServer({ connectionsCheckingInterval: checkingIntervalMs(limits) }, (req, res) => {
    handle(req, res, deps, settings, budget).catch((err: unknown) => {
      // Only reachable if writing the reply itself failed: drop the connection, keep the process.
      deps.logger.error({ err }, 'HTTP reply failed');
      res.destroy();
    });
  });
  applyServerLimits(server, limits);
  server.on('error', (err) => deps.logger.error({ err }, 'HTTP server error'));
  // Over max_connections Node closes the new socket at once; say so once per burst, not per socket.
  let dropLogged = false;
  server.on('drop', () => {
    if (dropLogged) return;
    dropLogged = true;
    deps.logger.warn({ max_connections: limits.maxConnections }, 'HTTP: connection limit reached; closing new connections');
    setTimeout(() => (dropLogged = false), 10_000).unref();
  });
  const port = await listen(server, address);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${port}`,
    port,
    setApiToken(token) {
      settings.apiToken = checkedToken(token);
    },
    setLimits(changes) {
      limits = { ...limits, ...changes };
      applyServerLimits(server, limits);
      budget.setLimit(limits.maxInflightBodyBytes);
      settings.storeTimeoutMs = limits.storeTimeoutMs;
      settings.maxJsonDepth = limits.maxJsonDepth;
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
        server.close((err) => {
          clearTimeout(force);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** One request: never throws for anything a handler does; unexpected errors become a logged 500. */
async function handle(req: IncomingMessage, res: ServerResponse, deps: HttpServerDeps, settings: HttpSettings, budget: BodyBudget): Promise<void> {
  const started = performance.now();
  const span = startServerSpan(req);
  let reply: Reply;
  try {
    reply = await dispatch({ req, deps, settings, budget });
  } catch (err) {
    const expected = expectedErrorReply(err);
    // Logged without headers: the Authorization header must never reach a log.
    if (expected === null) deps.logger.error({ err, method: req.method, url: req.url }, 'HTTP request failed');
    reply = expected ?? INTERNAL_ERROR_REPLY;
  }
  const sent = leasedReply(res, reply, budget);
  writeReply(req, res, sent);
  span.end(sent.status);
  deps.logger.debug({ method: req.method, url: req.url, status: reply.status, ms: Math.round(performance.now() - started) }, 'HTTP request');
}

/** Reply bodies at least this big count against the body budget while they are being sent. */
const LEASED_REPLY_BYTES = 64 * 1024;

/**
 * A big reply (a record read) is held in memory until the client has taken it: a client that
 * never reads would otherwise pin it. It takes a lease like a request body, given back once the
 * response is done or the connection is gone; when the budget is full the reply is 503 instead.
 */
function leasedReply(res: ServerResponse, reply: Reply, budget: BodyBudget): Reply {
  const bytes = reply.body === undefined ? 0 : Buffer.byteLength(reply.body);
  if (bytes < LEASED_REPLY_BYTES) return reply;
  const lease = budget.lease();
  if (!lease.reserve(bytes)) {
    return expectedErrorReply(new HttpError(503, 'server_busy', 'replies in flight exceed http.max_inflight_body_bytes; retry later', { 'Retry-After': '1' })) ?? INTERNAL_ERROR_REPLY;
  }
  res.once('close', () => lease.release());
  return reply;
}

function listen(server: http.Server, address: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : address.port);
    });
  });
}

function checkedToken(token: string | undefined): string | undefined {
  // An empty token would "protect" the API with no secret at all: refuse it loudly.
  if (token === '') throw new ValidationError('invalid_api_token', 'apiToken', 'must not be empty');
  return token;
}
