/**
 * The application's writes to the local store: each checked once, hashed and framed for the wire
 * once, then group-committed (group-commit.ts) into write.lua calls, so that concurrent puts and
 * deletes share a script call. A write is acknowledged once Redis has answered its call.
 */
import type { Redis } from 'ioredis';
import { compressForWire } from '../cdc/compression.js';
import { ValidationError } from '../errors.js';
import { CONTENT_TYPES } from '../model/change.js';
import { sha256Hex } from '../model/content-hash.js';
import { assertValidKey, type Key } from '../model/key.js';
import { isTraceParent } from '../model/trace-parent.js';
import { packedWriteBytes, runWrites, type LocalWrite, type WriteContext, type WriteOutcome } from './commands/write.js';
import { GroupCommit } from './group-commit.js';
import type { CheckedPut, DeleteResult, PutOptions, WriteResult } from './local-store.js';

/** Local writes per script call, and such calls waiting for Redis at once. */
const WRITES_PER_CALL = 256;
const WRITE_CALLS_IN_FLIGHT = 2;
/**
 * Packed bytes per call, at most (and at most store.max_apply_bytes). Small writes reach the count
 * bound long before this; big ones go a few per call, so a call's copies of them stay small.
 */
const WRITE_CALL_MAX_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export interface LocalWritesDeps {
  readonly redis: Redis;
  readonly nodeId: string;
  /** The store's call wrapper (pending calls settled on a dropped connection, OOM mapped). */
  call<T>(command: () => Promise<T>): Promise<T>;
  /** Read at each call: a reload may change the limits, the wall clock moves. */
  context(): WriteContext;
  maxPayloadBytes(): number;
  maxCallBytes(): number;
}

/** Every field of a put checked, for a caller that has checked nothing (the library API). */
export function checkPut(key: string, content: Buffer, options: PutOptions = {}): CheckedPut {
  const checkedKey = assertValidKey(key);
  if (!Buffer.isBuffer(content)) throw new ValidationError('invalid_content', 'content', 'must be a Buffer');
  const contentType = options.contentType ?? 'binary';
  if (!CONTENT_TYPES.includes(contentType)) {
    throw new ValidationError('invalid_content_type', 'contentType', `must be one of ${CONTENT_TYPES.join(', ')}`);
  }
  const traceParent = options.traceParent ?? '';
  if (traceParent !== '' && !isTraceParent(traceParent)) {
    throw new ValidationError('invalid_trace_parent', 'traceParent', 'is not a W3C traceparent value');
  }
  return { key: checkedKey, content, contentType, traceParent };
}

function assertPayloadSize(bytes: number, limit: number): void {
  if (bytes > limit) throw new ValidationError('payload_too_large', 'content', `is ${bytes} bytes; the limit is ${limit}`);
}

export class LocalWrites {
  private readonly group: GroupCommit<LocalWrite, WriteOutcome>;

  constructor(private readonly deps: LocalWritesDeps) {
    this.group = new GroupCommit((batch) => deps.call(() => runWrites(deps.redis, deps.context(), batch)), {
      maxInFlight: WRITE_CALLS_IN_FLIGHT, maxCount: WRITES_PER_CALL, maxBytes: () => Math.min(WRITE_CALL_MAX_BYTES, deps.maxCallBytes()), sizeOf: packedWriteBytes,
    });
  }

  put(key: string, content: Buffer, options: PutOptions = {}): Promise<WriteResult> {
    try {
      return this.putChecked(checkPut(key, content, options));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** A put checked by its caller: hashed and framed once here, nothing checked again but the size. */
  async putChecked(write: CheckedPut): Promise<WriteResult> {
    const { key, content, contentType, traceParent } = write;
    assertPayloadSize(content.length, this.deps.maxPayloadBytes());
    const hash = sha256Hex(content);
    const { hlc, version } = await this.group.submit({ op: 'PUT', key, content, hash, contentType, wire: compressForWire(content), traceParent });
    return { key, hash, hlc, origin: this.deps.nodeId, version };
  }

  delete(key: string): Promise<DeleteResult> {
    try {
      return this.deleteChecked(assertValidKey(key));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  async deleteChecked(key: Key): Promise<DeleteResult> {
    const { hlc } = await this.group.submit({ op: 'DEL', key, content: EMPTY, hash: '', contentType: '', wire: EMPTY, traceParent: '' });
    return { key, hlc, origin: this.deps.nodeId };
  }
}
