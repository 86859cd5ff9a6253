/**
 * Errors → HTTP replies. Handlers throw typed errors (`HttpError`, the store's
 * `ValidationError`); this is the one table that turns them into a status and a JSON body
 * `{error, detail}`. Anything else is unexpected: the caller logs it and answers 500.
 */
import { ReplicationError, ValidationError } from '../errors.js';
import { jsonReply, type Reply } from './reply.js';

/** A refusal with a definite HTTP status (404, 405, 401, 413, 503…). */
export class HttpError extends ReplicationError {
  readonly status: number;
  readonly detail: string;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, detail: string, headers: Record<string, string> = {}) {
    super(code, detail);
    this.status = status;
    this.detail = detail;
    this.headers = headers;
  }
}

/** Validation codes that are not a plain 400. */
const VALIDATION_STATUS: Readonly<Record<string, number>> = {
  payload_too_large: 413,
};

/**
 * Store refusals that are a state of the local Redis, not a bug: 503 with Retry-After, so
 * clients and load balancers back off instead of treating them as a server fault.
 */
const STORE_REFUSALS: Readonly<Record<string, { status: number; error: string }>> = {
  // Redis answered OOM before the memory guard's next poll noticed (RedisStore maps the reply).
  not_accepting_writes: { status: 503, error: 'not_accepting_writes' },
  // The memory guard fails closed when it cannot read INFO memory.
  memory_check_failed: { status: 503, error: 'store_unavailable' },
  // The local Redis dropped the connection before answering: the write may or may not have been applied.
  store_connection_lost: { status: 503, error: 'store_unavailable' },
};

export function errorReply(status: number, code: string, detail: string, headers: Record<string, string> = {}): Reply {
  return jsonReply(status, { error: code, detail }, headers);
}

/** The reply for an expected error; null for an unexpected one (a bug or an outage: 500). */
export function expectedErrorReply(err: unknown): Reply | null {
  if (err instanceof HttpError) return errorReply(err.status, err.code, err.detail, err.headers);
  // The message names the field and the problem ("key: must not be empty"); it never holds a stack.
  if (err instanceof ValidationError) return errorReply(VALIDATION_STATUS[err.code] ?? 400, err.code, err.message);
  const refusal = err instanceof ReplicationError ? STORE_REFUSALS[err.code] : undefined;
  if (refusal !== undefined) return errorReply(refusal.status, refusal.error, (err as Error).message, { 'Retry-After': '1' });
  return null;
}

export const INTERNAL_ERROR_REPLY: Reply = jsonReply(500, { error: 'internal', detail: 'unexpected error; see the node log' });
