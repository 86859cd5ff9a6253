/**
 * A byte bound on one XREAD reply, watched on the socket: Redis cannot bound a reply in bytes, and
 * a read sized from earlier, small entries may meet large ones (or an entry no writer makes, larger
 * than any valid record). Past the bound the connection is dropped, which frees what the client
 * had buffered of the reply, and the read fails with ReplyTooLargeError naming the first entry's id
 * when the reply's head showed it.
 */
import { ReplicationError } from '../errors.js';

export class ReplyTooLargeError extends ReplicationError {
  constructor(
    peerId: string,
    readonly bytes: number,
    readonly count: number,
    /** The first entry's id, read from the reply's head; null when it did not arrive or parse. */
    readonly firstId: string | null,
  ) {
    super('reply_too_large', `peer ${peerId}: XREAD COUNT ${count} replied more than ${bytes} bytes; the read was dropped`);
  }
}

const HEAD_BYTES = 512;
/** RESP2 reply of XREAD on one stream: [[key, [[id, fields], …]]]; the first id follows the key. */
const FIRST_ID = /^\*1\r\n\*2\r\n\$\d+\r\n[^\r\n]*\r\n\*\d+\r\n\*2\r\n\$\d+\r\n(\d{1,20}-\d{1,20})\r\n/;

export interface DataSource {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
}

export class ReplyGuard {
  private bytes = 0;
  private head: Buffer = Buffer.alloc(0);
  exceeded = false;
  private readonly onData = (chunk: Buffer): void => {
    if (this.head.length < HEAD_BYTES) this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
    this.bytes += chunk.length;
    if (!this.exceeded && this.bytes > this.maxBytes) {
      this.exceeded = true;
      this.onExceeded();
    }
  };

  constructor(
    private readonly source: DataSource,
    private readonly maxBytes: number,
    private readonly onExceeded: () => void,
  ) {
    source.on('data', this.onData);
  }

  stop(): void {
    this.source.off('data', this.onData);
  }

  /** The first entry's id, if the head of the reply arrived. */
  firstId(): string | null {
    return FIRST_ID.exec(this.head.toString('latin1'))?.[1] ?? null;
  }
}
