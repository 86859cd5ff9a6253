/**
 * Bearer-token auth for `/v1/*` (`http.api_token`). Operational routes (`/health`, `/ready`,
 * `/metrics`, `/status`) stay open: probes and scrapers must not need the secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './errors.js';
import { parseBearer } from './parse.js';

const CHALLENGE = 'Bearer realm="replication-engine"';

export function requiresAuth(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/');
}

/**
 * Throws 401 unless the header carries `token`. Both sides are hashed to 32 bytes before a
 * constant-time compare, so neither the content nor the length of the token leaks by timing.
 */
export function assertAuthorized(header: string | undefined, token: string): void {
  const presented = parseBearer(header);
  if (presented === null) {
    throw new HttpError(401, 'unauthorized', 'this route requires "Authorization: Bearer <token>"', { 'WWW-Authenticate': CHALLENGE });
  }
  if (!timingSafeEqual(digest(presented), digest(token))) {
    throw new HttpError(401, 'unauthorized', 'the bearer token is not valid', { 'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"` });
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
