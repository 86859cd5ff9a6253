/**
 * SLO thresholds (settings.slo): a crossing is counted every time and logged at most once
 * per interval per (peer, slo), so a sustained breach does not flood the log.
 */
import type { Logger } from './logger.js';

export type SloName = 'stream_read_latency' | 'peer_op_latency' | 'batch_flush_latency' | 'replication_lag';

export class SloMonitor {
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly record: (peerId: string, slo: SloName) => void,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly logIntervalMs = 30_000,
  ) {}

  /** Checks `value` against `limit` (same unit); true when violated. */
  check(peerId: string, slo: SloName, value: number, limit: number, unit: string): boolean {
    if (value <= limit) return false;
    this.record(peerId, slo);
    const key = `${peerId}\u0000${slo}`;
    const t = this.now();
    if (t - (this.lastLogged.get(key) ?? -Infinity) >= this.logIntervalMs) {
      this.lastLogged.set(key, t);
      this.logger.warn({ peer_id: peerId, slo, value: Math.round(value * 100) / 100, limit, unit }, `SLO exceeded: ${slo}`);
    }
    return true;
  }
}
