/**
 * The demo's network switch: a loopback TCP proxy in front of a node's Redis. While `cut`,
 * it resets open connections and every new one at once — what a peer sees when a link goes
 * down hard (ECONNRESET), so circuits open within a second instead of waiting out timeouts.
 * `heal()` lets new connections through again; clients reconnect on their own.
 */
import net from 'node:net';

export class TcpProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private isCut = false;
  private boundPort = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  /** Listens on a free loopback port. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        proxy.server.off('error', reject);
        const address = proxy.server.address();
        proxy.boundPort = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
    return proxy;
  }

  get port(): number {
    return this.boundPort;
  }

  /** `redis://127.0.0.1:<proxy port>`: what a peer configuration points at instead of the Redis. */
  get url(): string {
    return `redis://127.0.0.1:${this.boundPort}`;
  }

  get cut(): boolean {
    return this.isCut;
  }

  /** Resets every open connection and refuses new ones until `heal()`. */
  cutOff(): void {
    this.isCut = true;
    for (const s of [...this.sockets]) reset(s);
  }

  heal(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.cutOff();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined); // the pair is torn down on 'close'; an unhandled 'error' would crash
    if (this.isCut) {
      reset(client);
      return;
    }
    const upstream = net.connect(this.target);
    upstream.on('error', () => undefined);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      this.sockets.add(s);
      // One side gone means the link is gone: reset the other so the client notices at once.
      s.once('close', () => {
        this.sockets.delete(s);
        reset(s === client ? upstream : client);
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** RST rather than FIN, as on a real cut; a socket still connecting can only be destroyed. */
function reset(socket: net.Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}
