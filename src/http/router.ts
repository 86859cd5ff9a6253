/**
 * Routing: request-target → auth → route → method → handler. Throws the typed errors of
 * errors.ts for 401/404/405 and bad input; turning them into replies is the server's job.
 */
import { assertAuthorized, requiresAuth } from './auth.js';
import { HttpError } from './errors.js';
import { deleteItem, getItem, listItems, putItem } from './items-routes.js';
import { health, metrics, ready, status } from './ops-routes.js';
import { matchRoute, parseRequestTarget, type RouteMatch } from './parse.js';
import type { Reply } from './reply.js';
import type { RequestContext } from './types.js';

type Handler = (ctx: RequestContext) => Promise<Reply>;
type Methods = Partial<Record<'GET' | 'PUT' | 'DELETE', Handler>>;

function methodsFor(match: RouteMatch): Methods {
  switch (match.route) {
    case 'health':
      return { GET: health };
    case 'ready':
      return { GET: ready };
    case 'metrics':
      return { GET: metrics };
    case 'status':
      return { GET: status };
    case 'items':
      return { GET: listItems };
    case 'item': {
      const { key } = match;
      return { GET: (c) => getItem(c, key), PUT: (c) => putItem(c, key), DELETE: (c) => deleteItem(c, key) };
    }
  }
}

export async function dispatch(base: Omit<RequestContext, 'query'>): Promise<Reply> {
  const { req, settings } = base;
  const { path, query } = parseRequestTarget(req.url ?? '/');
  // Auth before any parsing of /v1 paths: an unauthenticated client learns nothing about keys or routes.
  if (settings.apiToken !== undefined && requiresAuth(path)) assertAuthorized(req.headers.authorization, settings.apiToken);
  const match = matchRoute(path);
  if (match === null) throw new HttpError(404, 'unknown_route', `no route for ${path}`);
  const methods = methodsFor(match);
  // HEAD is GET without the body (Node drops the body of a HEAD reply).
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const handler = method === 'GET' || method === 'PUT' || method === 'DELETE' ? methods[method] : undefined;
  if (handler === undefined) {
    throw new HttpError(405, 'method_not_allowed', `${req.method ?? '?'} is not allowed on ${path}`, { Allow: allowHeader(methods) });
  }
  return handler({ ...base, query });
}

function allowHeader(methods: Methods): string {
  const names = Object.keys(methods);
  return (names.includes('GET') ? ['GET', 'HEAD', ...names.filter((n) => n !== 'GET')] : names).join(', ');
}
