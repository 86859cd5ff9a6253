/**
 * A loopback TCP proxy that injects network faults between a client and a Redis: refused connections, a black
 * hole (packets silently lost), cut connections, latency. The demo puts one on every link of the node it cuts
 * off (`cutOff()`: what a peer sees when a link goes down hard, ECONNRESET, so circuits open within a second
 * instead of waiting out timeouts); the chaos and integration tests put them in front of peers.
 */
import net from 'node:net';

/**
 * - `pass`: forward both ways.
 * - `refuse`: new connections are reset at once (clients see ECONNRESET / a closed connection).
 * - `blackhole`: new connections are accepted and never answered; open connections stop forwarding too.
 *   A connection that lost bytes stays a black hole after `setMode('pass')` (its byte stream is corrupt);
 *   only fresh connections pass again, like a client reconnecting after a network partition heals.
 */
export type ProxyMode = 'pass' | 'refuse' | 'blackhole';

export interface FaultProxy {
  readonly port: number;
  readonly host: '127.0.0.1';
  url(scheme?: 'redis' | 'rediss', auth?: string): string;
  setMode(mode: ProxyMode): void;
  /** Resets every open connection (both sides): clients see ECONNRESET. */
  cutConnections(): void;
  /** A hard partition: `refuse` mode and every open connection reset. `setMode('pass')` heals it. */
  cutOff(): void;
  /** Delays every chunk, each direction, by `ms`, preserving order. */
  setLatency(ms: number): void;
  setTarget(host: string, port: number): void;
  readonly connectionCount: number;
  readonly mode: ProxyMode;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const proxy = new TcpFaultProxy(target);
  await proxy.listen();
  return proxy;
}

/** One direction of a proxied connection: an ordered, optionally delayed queue of chunks. */
class Pipe {
  private readonly queue: { due: number; chunk: Buffer }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private draining = false;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly latencyMs: () => number,
    private readonly swallowing: () => boolean,
  ) {
    from.on('data', (chunk: Buffer) => this.push(chunk));
  }

  private push(chunk: Buffer): void {
    if (this.swallowing()) return;
    const latency = this.latencyMs();
    if (latency <= 0 && this.queue.length === 0) {
      this.write(chunk);
      return;
    }
    // Never earlier than the chunk before it, so a latency change cannot reorder bytes.
    const last = this.queue[this.queue.length - 1];
    const due = Math.max(Date.now() + latency, last?.due ?? 0);
    this.queue.push({ due, chunk });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const head = this.queue[0];
    if (!head) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const now = Date.now();
      for (let next = this.queue[0]; next && next.due <= now; next = this.queue[0]) {
        this.queue.shift();
        if (!this.swallowing()) this.write(next.chunk);
      }
      this.schedule();
    }, Math.max(0, head.due - Date.now()));
  }

  private write(chunk: Buffer): void {
    if (this.to.destroyed) return;
    // Backpressure: stop reading from the source until the destination drains.
    if (!this.to.write(chunk) && !this.draining) {
      this.draining = true;
      this.from.pause();
      this.to.once('drain', () => {
        this.draining = false;
        this.from.resume();
      });
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

class Connection {
  private blackholed: boolean;
  private upstream: net.Socket | undefined;
  private readonly pipes: Pipe[] = [];
  private closed = false;

  constructor(
    private readonly client: net.Socket,
    target: { host: string; port: number },
    blackhole: boolean,
    latencyMs: () => number,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.blackholed = blackhole;
    client.on('error', () => this.reset());
    client.on('close', () => this.reset());
    if (blackhole) {
      // Accept and read (so the client's writes succeed) but never answer.
      client.resume();
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.port });
    this.upstream = upstream;
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    // The target being down looks, to the client, like a reset connection.
    upstream.on('error', () => this.reset());
    upstream.on('close', () => this.reset());
    const swallowing = (): boolean => this.blackholed;
    this.pipes.push(new Pipe(client, upstream, latencyMs, swallowing), new Pipe(upstream, client, latencyMs, swallowing));
  }

  blackhole(): void {
    this.blackholed = true;
    // Keep draining both sockets so nothing backs up and nothing is delivered.
    this.client.resume();
    this.upstream?.resume();
  }

  reset(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pipes) p.dispose();
    for (const s of [this.client, this.upstream]) {
      if (s && !s.destroyed) {
        // RST rather than FIN: the peer sees ECONNRESET, as on a real cut. Not possible before connect.
        if (s.connecting) s.destroy();
        else s.resetAndDestroy();
      }
    }
    this.onClose(this);
  }
}

class TcpFaultProxy implements FaultProxy {
  readonly host = '127.0.0.1' as const;
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private currentMode: ProxyMode = 'pass';
  private latencyMs = 0;
  private boundPort = 0;

  constructor(private target: { host: string; port: number }) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  get port(): number {
    return this.boundPort;
  }

  get mode(): ProxyMode {
    return this.currentMode;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        this.boundPort = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
  }

  url(scheme: 'redis' | 'rediss' = 'redis', auth?: string): string {
    return `${scheme}://${auth ? `${auth}@` : ''}${this.host}:${this.port}`;
  }

  setMode(mode: ProxyMode): void {
    this.currentMode = mode;
    if (mode === 'blackhole') for (const c of this.connections) c.blackhole();
  }

  cutConnections(): void {
    for (const c of [...this.connections]) c.reset();
  }

  cutOff(): void {
    this.setMode('refuse');
    this.cutConnections();
  }

  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be a non-negative number, got ${ms}`);
    this.latencyMs = ms;
  }

  setTarget(host: string, port: number): void {
    this.target = { host, port };
  }

  async close(): Promise<void> {
    this.cutConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => {
      // reported through the connection's reset; an unhandled 'error' would crash the test process
    });
    if (this.currentMode === 'refuse') {
      socket.resetAndDestroy();
      return;
    }
    const conn = new Connection(
      socket,
      this.target,
      this.currentMode === 'blackhole',
      () => this.latencyMs,
      (c) => this.connections.delete(c),
    );
    this.connections.add(conn);
  }
}
