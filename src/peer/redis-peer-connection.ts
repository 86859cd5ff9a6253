/**
 * PeerConnection over two ioredis clients. Both reconnect forever with capped exponential
 * backoff and jitter; neither queues commands while down (enableOfflineQueue: false), so a
 * dead peer fails fast and feeds the circuit breaker instead of piling up work.
 *
 * Every call on either client is bounded, and a call that times out drops that client's socket
 * and reconnects. A connection whose replies stopped (a black-holed link: packets silently
 * lost, no reset) never recovers by itself, even after the network heals: its byte stream is
 * broken and TCP keepalive sees nothing wrong. ioredis's own `commandTimeout` only fails the
 * command and keeps the dead socket, which would fail every later call forever.
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { DEFAULTS } from '../defaults.js';
import { ReplicationError } from '../errors.js';
import { redisOptionsFor, type RedisEndpoint } from '../redis/connect.js';
import { RedisStoreReader } from '../store/store-reader.js';
import { StoreKeys } from '../store/keys.js';

import { ExponentialBackoff } from './backoff.js';
import { ReplyGuard, ReplyTooLargeError } from './reply-guard.js';
import type { PeerConnection, PeerConnectionEvent, RawStreamEntry, StreamInfo } from './peer-connection.js';

export interface RedisPeerOptions {
  peerId: string;
  endpoint: RedisEndpoint;
  prefix: string;
  /** Time allowed for a non-blocking command (and on top of the BLOCK time for XREAD). */
  commandTimeoutMs?: number;
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
}

export class PeerTimeoutError extends ReplicationError {
  constructor(peerId: string, what: string, ms: number) {
    super('peer_timeout', `peer ${peerId}: ${what} did not answer within ${ms} ms`);
  }
}

/**
 * A call on a connection that is not up. ioredis rejects it with "Stream isn't writeable and
 * enableOfflineQueue options is false", which says nothing of why: the cause (refused, wrong
 * password, TLS) came earlier, in the client's last 'error' event, and is named here instead.
 */
export class PeerUnavailableError extends ReplicationError {
  constructor(peerId: string, address: string, cause: string) {
    super('peer_unavailable', `peer ${peerId} at ${address}: not connected: ${cause}`);
  }
}

/** A command the peer's Redis answered with an error (e.g. NOPERM from its ACL). */
export class PeerCommandError extends ReplicationError {
  constructor(peerId: string, address: string, cause: string) {
    super('peer_command_failed', `peer ${peerId} at ${address}: ${cause}`);
  }
}

type XReadReply = [Buffer, [Buffer, Buffer[]][]][] | null;

/** Errors ioredis raises for the commands a down connection refused: the cause is the error before them. */
const NOT_A_CAUSE = /^(Reached the max retries per request limit|Stream isn't writeable)/;

export class RedisPeerConnection implements PeerConnection {
  readonly peerId: string;
  readonly reader: RedisStoreReader;
  private readonly stream: Redis;
  private readonly query: Redis;
  private readonly streamKey: string;
  private readonly commandTimeoutMs: number;
  private readonly listeners: ((e: PeerConnectionEvent) => void)[] = [];
  private readonly latencyListeners: ((seconds: number) => void)[] = [];
  private wasConnected = false;
  private closed = false;
  /** host:port, for error messages (never the credentials). */
  readonly address: string;
  /** Each client's last connection error since it was last ready: the cause behind a refused call. */
  private readonly lastConnectError = new Map<Redis, string>();

  constructor(options: RedisPeerOptions) {
    this.peerId = options.peerId;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    this.streamKey = new StoreKeys(options.prefix).stream;
    const backoff = new ExponentialBackoff({ baseMs: options.reconnectBaseMs ?? DEFAULTS.peerReconnectBaseMs, maxMs: options.reconnectMaxMs ?? DEFAULTS.peerReconnectMaxMs, jitter: 'equal' });
    const common = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // Never give up: a peer may be away for days and must be picked up when it returns.
      retryStrategy: (times: number): number => {
        const delayMs = backoff.delay(times - 1);
        this.emit({ type: 'reconnecting', delayMs });
        return delayMs;
      },
      keepAlive: 10_000,
      connectTimeout: this.commandTimeoutMs,
    };
    const streamOptions = redisOptionsFor(options.endpoint, { ...common, connectionName: `re-stream:${options.peerId}` });
    this.address = `${streamOptions.host ?? '?'}:${streamOptions.port ?? '?'}`;
    this.stream = new Redis(streamOptions);
    this.query = new Redis(redisOptionsFor(options.endpoint, { ...common, connectionName: `re-query:${options.peerId}` }));
    for (const client of [this.stream, this.query]) {
      this.watchHandshake(client);
      client.on('ready', () => {
        this.lastConnectError.delete(client);
        if (client.status === 'ready') backoff.reset();
        this.refreshState();
      });
      client.on('close', () => this.refreshState());
      client.on('error', (error: Error) => {
        // ioredis's own "gave up on this command" errors say nothing of why the connection is down:
        // neither kept as the cause nor reported (they would flood the log between the real ones).
        if (NOT_A_CAUSE.test(error.message)) return;
        this.lastConnectError.set(client, error.message);
        this.emit({ type: 'error', error });
      });
    }
    this.reader = new BoundedStoreReader(this.query, options.prefix, (call) => this.timed(() => this.bounded(this.query, call(), this.commandTimeoutMs, 'peer query')));
  }

  get connected(): boolean {
    return this.stream.status === 'ready' && this.query.status === 'ready';
  }

  get downCause(): string | null {
    for (const client of [this.stream, this.query]) {
      const cause = client.status === 'ready' ? undefined : this.lastConnectError.get(client);
      if (cause !== undefined) return new PeerUnavailableError(this.peerId, this.address, cause).message;
    }
    return null;
  }

  onStateChange(listener: (event: PeerConnectionEvent) => void): void {
    this.listeners.push(listener);
  }

  onLatency(listener: (seconds: number) => void): void {
    this.latencyListeners.push(listener);
  }

  async read(cursor: string, count: number, blockMs: number, maxReplyBytes?: number): Promise<RawStreamEntry[]> {
    const limit = blockMs + this.commandTimeoutMs;
    const start = performance.now();
    const socket = this.stream.stream as typeof this.stream.stream | undefined; // none before the first connect
    // destroy, not disconnect: disconnect ends the socket gracefully, and the rest of the reply
    // would still be read and parsed. The client reconnects by itself.
    const guard = maxReplyBytes === undefined || socket === undefined ? null : new ReplyGuard(socket, maxReplyBytes, () => socket.destroy());
    let reply: XReadReply;
    try {
      reply = (await this.bounded(
        this.stream,
        this.stream.xreadBuffer('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.streamKey, cursor) as Promise<XReadReply>,
        limit,
        'XREAD',
      )) as XReadReply;
    } catch (err) {
      if (guard?.exceeded) throw new ReplyTooLargeError(this.peerId, maxReplyBytes!, count, guard.firstId());
      throw err;
    } finally {
      guard?.stop();
    }
    const entries = reply?.[0]?.[1] ?? [];
    // Only a full read is a round trip: a shorter one may have blocked waiting for the peer's writes.
    if (entries.length >= count) this.reportLatency((performance.now() - start) / 1000);
    return entries.map(([id, fields]) => ({ id: id.toString(), fields }));
  }

  async streamInfo(): Promise<StreamInfo | null> {
    let raw: unknown[];
    try {
      raw = (await this.timed(() => this.bounded(this.query, this.query.call('XINFO', 'STREAM', this.streamKey), this.commandTimeoutMs, 'XINFO STREAM'))) as unknown[];
    } catch (err) {
      if (err instanceof Error && /no such key/i.test(err.message)) return null;
      throw err;
    }
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < raw.length; i += 2) info.set(String(raw[i]), raw[i + 1]);
    const firstEntry = info.get('first-entry');
    const maxDeleted = info.get('max-deleted-entry-id');
    const added = info.get('entries-added');
    return {
      length: Number(info.get('length') ?? 0),
      lastGeneratedId: String(info.get('last-generated-id') ?? '0-0'),
      maxDeletedId: maxDeleted === undefined ? null : String(maxDeleted),
      firstEntryId: Array.isArray(firstEntry) ? String(firstEntry[0]) : null,
      entriesAdded: added === undefined ? null : Number(added),
    };
  }

  async ping(): Promise<number> {
    const start = performance.now();
    await this.bounded(this.query, this.query.ping(), this.commandTimeoutMs, 'PING');
    const seconds = (performance.now() - start) / 1000;
    this.reportLatency(seconds);
    return seconds;
  }

  interruptRead(): void {
    // Dropping the socket makes the pending XREAD reject; the client reconnects by itself.
    if (!this.closed && this.stream.status === 'ready') this.stream.disconnect(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stream.disconnect(false);
    this.query.disconnect(false);
    this.refreshState();
  }

  /** Runs one call, reporting its round trip when it succeeds (a failure is counted as an error instead). */
  private async timed<T>(call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const result = await call();
    this.reportLatency((performance.now() - start) / 1000);
    return result;
  }

  private reportLatency(seconds: number): void {
    for (const l of this.latencyListeners) l(seconds);
  }

  /** A reply that never comes (black-holed link) must not hang the caller: time out, drop the socket, reconnect. */
  private async bounded<T>(client: Redis, op: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (!this.closed) client.disconnect(true);
        reject(new PeerTimeoutError(this.peerId, what, ms));
      }, ms);
    });
    try {
      return await Promise.race([op, timeout]);
    } catch (err) {
      throw this.explain(client, err);
    } finally {
      clearTimeout(timer);
      op.catch(() => undefined);
    }
  }

  /** The real cause of a failed call, with the peer's host:port. */
  private explain(client: Redis, err: unknown): unknown {
    if (err instanceof ReplicationError || !(err instanceof Error)) return err;
    if (client.status !== 'ready') {
      const cause = this.lastConnectError.get(client) ?? `${err.message} (connection ${client.status})`;
      return new PeerUnavailableError(this.peerId, this.address, cause);
    }
    return new PeerCommandError(this.peerId, this.address, err.message);
  }

  /**
   * `connectTimeout` ends at the TCP connect; the handshake after it (AUTH, the ready check) has no
   * bound of its own. A connection made into a black hole would sit "connecting" forever, failing
   * every command at once (no offline queue) and so never timing one out: drop it and retry.
   */
  private watchHandshake(client: Redis): void {
    let timer: NodeJS.Timeout | undefined;
    const clear = (): void => {
      clearTimeout(timer);
      timer = undefined;
    };
    client.on('connect', () => {
      clear();
      timer = setTimeout(() => {
        timer = undefined;
        if (this.closed || client.status === 'ready') return;
        // The cause to report: dropping it makes ioredis fail the pending AUTH with "max retries", which is not one.
        this.lastConnectError.set(client, `no answer to the connection handshake (AUTH, ready check) within ${this.commandTimeoutMs} ms`);
        client.disconnect(true);
      }, this.commandTimeoutMs);
      timer.unref();
    });
    client.on('ready', clear);
    client.on('close', clear);
  }

  private refreshState(): void {
    const now = this.connected;
    if (now === this.wasConnected) return;
    this.wasConnected = now;
    this.emit({ type: now ? 'connected' : 'disconnected' });
  }

  private emit(event: PeerConnectionEvent): void {
    for (const l of this.listeners) l(event);
  }
}

/** The peer's tree and records, read on the query connection with every call bounded (see `bounded`). */
class BoundedStoreReader extends RedisStoreReader {
  constructor(
    redis: Redis,
    prefix: string,
    private readonly bound: <T>(call: () => Promise<T>) => Promise<T>,
  ) {
    super(redis, prefix);
  }

  protected override call<T>(command: () => Promise<T>): Promise<T> {
    return this.bound(command);
  }
}
