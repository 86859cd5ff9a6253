/**
 * Idle-peer health checks (docs/hot-path.md): a peer that has sent nothing for `idle_threshold_sec`
 * is pinged every `ping_interval_sec` on its query connection, never behind the blocking
 * XREAD. A failed ping counts against the circuit breaker, so a silently dead idle peer is noticed
 * before the next write needs it; its round trip reaches the latency histogram and the peer-op SLO
 * like every other call to the peer (PeerConnection.onLatency).
 */
import type { PeerHealthSettings } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { PeerConnection } from './peer-connection.js';

export interface HealthPingerDeps {
  peerId: string;
  connection: PeerConnection;
  breaker: CircuitBreaker;
  metrics: EngineMetrics;
  logger: Logger;
  /** When the peer last sent us entries (ms), or null: traffic makes pings unnecessary. */
  lastActivityAt: () => number | null;
  now?: () => number;
}

/** The pure decision: ping when the peer has been quiet long enough and the last ping is old enough. */
export function pingDue(nowMs: number, lastActivityAt: number | null, lastPingAt: number | null, settings: PeerHealthSettings): boolean {
  if (!settings.enabled) return false;
  const quietMs = lastActivityAt === null ? Infinity : nowMs - lastActivityAt;
  if (quietMs < settings.idle_threshold_sec * 1000) return false;
  return lastPingAt === null || nowMs - lastPingAt >= settings.ping_interval_sec * 1000;
}

export class HealthPinger {
  private readonly deps: HealthPingerDeps;
  private readonly now: () => number;
  private settings: PeerHealthSettings;
  private timer: NodeJS.Timeout | null = null;
  private lastPingAt: number | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(deps: HealthPingerDeps, settings: PeerHealthSettings) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.settings = settings;
  }

  start(): void {
    if (this.timer) return;
    // Check often enough to honour short intervals; each check is a cheap comparison.
    const tickMs = Math.max(100, Math.min(1000, this.settings.ping_interval_sec * 250));
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  updateSettings(settings: PeerHealthSettings): void {
    const restart = this.timer !== null && settings.ping_interval_sec !== this.settings.ping_interval_sec;
    this.settings = settings;
    if (restart) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.start();
    }
  }

  /** One health check now, whatever the schedule; resolves to the latency in seconds or null on failure. */
  async pingNow(): Promise<number | null> {
    const { peerId, connection, breaker, metrics, logger } = this.deps;
    this.lastPingAt = this.now();
    if (!breaker.canRequest()) return null;
    try {
      const seconds = await connection.ping();
      breaker.onSuccess();
      return seconds;
    } catch (err) {
      breaker.onFailure();
      metrics.peerErrors.labels(peerId).inc();
      logger.debug({ peer_id: peerId, err }, 'health ping failed');
      return null;
    }
  }

  private tick(): void {
    if (this.inFlight) return;
    if (!pingDue(this.now(), this.deps.lastActivityAt(), this.lastPingAt, this.settings)) return;
    this.inFlight = this.pingNow().then(() => {
      this.inFlight = null;
    });
  }
}
