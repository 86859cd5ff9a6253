/** The node's HTTP API (docs/http-api.md). */
export { startHttpServer, DEFAULT_STORE_TIMEOUT_MS, type HttpServerHandle, type HttpServerOptions } from './server.js';
export type { HttpServerDeps, HttpStore } from './types.js';
export { HttpError } from './errors.js';
export { DEFAULT_HTTP_LIMITS, limitsFromConfig, type HttpLimits } from './limits.js';
export { JsonScanner, jsonDocumentError } from './json-scan.js';
export {
  parseRequestTarget, matchRoute, parseItemPath, parseQueryString, parseListQuery, parseContentType, parseBearer,
  parseContentLength, isJsonDocument, DEFAULT_LIST_LIMIT, DEFAULT_MAX_JSON_DEPTH, MAX_LIST_LIMIT,
  type RequestTarget, type RouteMatch, type RouteName, type ListQuery,
} from './parse.js';
