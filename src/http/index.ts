/** The node's HTTP API (docs/http-api.md). */
export { startHttpServer, DEFAULT_STORE_TIMEOUT_MS, type HttpServerHandle, type HttpServerOptions } from './server.js';
export type { HttpServerDeps, HttpStore } from './types.js';
export { HttpError } from './errors.js';
export {
  parseRequestTarget, matchRoute, parseItemPath, parseQueryString, parseListQuery, parseContentType, parseBearer,
  parseContentLength, isJsonDocument, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT,
  type RequestTarget, type RouteMatch, type RouteName, type ListQuery,
} from './parse.js';
