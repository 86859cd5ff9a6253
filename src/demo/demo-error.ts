/**
 * Errors the demo raises on purpose. Each carries a stable `code` (as every error of the
 * project does) so the command and the tests branch on codes, never on message text.
 */
import { ReplicationError } from '../errors.js';

export type DemoErrorCode =
  /** A redis-server did not come up (bad binary, no free port, crashed at start). */
  | 'redis_start_failed'
  /** Ctrl-C (or SIGTERM/SIGHUP, or its output closing) while the demo ran. */
  | 'demo_interrupted'
  /** A local write of the demo's workload failed. */
  | 'workload_failed';

export class DemoError extends ReplicationError {
  declare readonly code: DemoErrorCode;

  constructor(code: DemoErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function interrupted(): DemoError {
  return new DemoError('demo_interrupted', 'interrupted');
}
