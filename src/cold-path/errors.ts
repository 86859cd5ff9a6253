/**
 * Typed cold-path errors. `side` says whose Redis failed: the scheduler reports a peer's
 * failure to that peer's circuit breaker, but a local failure is not the peer's fault.
 */
import { ReplicationError, errorMessage } from '../errors.js';

export type ColdPathErrorCode =
  /** Reading the peer's tree or records failed (unreachable, timed out, bad reply). */
  | 'peer_read_failed'
  /** Reading our own tree failed. */
  | 'local_read_failed'
  /** The local apply path refused or failed a batch of repairs. */
  | 'apply_failed';

export type ColdPathSide = 'local' | 'peer';

export class ColdPathError extends ReplicationError {
  declare readonly code: ColdPathErrorCode;
  readonly side: ColdPathSide;

  constructor(code: ColdPathErrorCode, side: ColdPathSide, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.side = side;
  }
}

/** Runs one read against one side, turning any failure into a ColdPathError naming that side. */
export async function onSide<T>(side: ColdPathSide, what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ColdPathError) throw err;
    const code: ColdPathErrorCode = side === 'peer' ? 'peer_read_failed' : 'local_read_failed';
    throw new ColdPathError(code, side, `${side} ${what} failed: ${errorMessage(err)}`, { cause: err });
  }
}
