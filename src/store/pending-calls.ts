/**
 * The calls a RedisStore has sent and not yet seen answered, so that none is left hanging. The
 * store's client does not resend what a dropped connection left unanswered (see
 * `RedisStore.connect`), and it then never settles those calls either: they are rejected here when
 * the connection that carried them closes, and by `close()` for whatever still waits.
 */
import type { Redis } from 'ioredis';
import { ReplicationError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

export class PendingCalls {
  /** Rejecters of the calls still waiting on Redis. */
  private readonly pending = new Set<(err: Error) => void>();
  /** Whether the calls now pending were sent on a live connection. */
  private link: 'up' | 'down';
  /** Set by close(); every later call fails fast with it. */
  private closedError: ReplicationError | null = null;

  private readonly onReady = (): void => {
    this.link = 'up';
    this.reconnected();
  };
  private readonly onClose = (): void => {
    if (this.link === 'down') return; // what is pending waits in the offline queue, sent on reconnect
    this.link = 'down';
    this.rejectAll(new ReplicationError('store_connection_lost', 'the connection to the local Redis dropped before it answered; the outcome of the call is unknown'));
  };

  /** `reconnected` runs each time the connection becomes ready again. */
  constructor(
    private readonly redis: Redis,
    private readonly reconnected: () => void,
  ) {
    this.link = redis.status === 'ready' ? 'up' : 'down';
    redis.on('ready', this.onReady);
    redis.on('close', this.onClose);
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Runs one command, its failure mapped by `mapError` (e.g. OOM to not_accepting_writes). */
  run<T>(command: () => Promise<T>, mapError: (err: unknown) => unknown): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      command()
        .then(resolve, (err: unknown) => reject(mapError(err)))
        .finally(() => this.pending.delete(reject));
    });
  }

  /** Later calls fail fast with `store_closed`; the listeners are removed. */
  close(storeName: string): void {
    this.closedError ??= new ReplicationError('store_closed', `the store "${storeName}" is closed`);
    this.redis.off('ready', this.onReady);
    this.redis.off('close', this.onClose);
  }

  rejectAll(error: ReplicationError): void {
    for (const reject of this.pending) reject(error);
    this.pending.clear();
  }
}

/** Logs the local Redis going away once (ioredis reports every reconnect attempt as an error). */
export function watchConnection(redis: Redis, logger: Logger): void {
  let reported = false;
  redis.on('ready', () => {
    if (reported) logger.info('local Redis connection restored');
    reported = false;
  });
  redis.on('error', (err: Error) => {
    if (!reported) logger.error({ err }, 'local Redis connection failed; reconnecting');
    reported = true;
  });
}
