import { Counter, Gauge, Histogram, Registry } from 'prom-client';

type PeerLabel = 'peer_id';

// Seconds, from sub-millisecond Redis round trips on a LAN to multi-second stalls.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Replication lag spans further: a peer catching up after a cut may be minutes behind.
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const REPAIR_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Every metric of one engine, in a registry of its own: several engines can live in
 * one process (tests, embedding) without colliding in prom-client's global registry.
 * See docs/metrics.md for the meaning of each.
 */
export class EngineMetrics {
  readonly registry = new Registry();
  private readonly perPeer: (Counter<string> | Gauge<string> | Histogram<string>)[] = [];

  // Hot path.
  readonly eventsRead: Counter<PeerLabel>;
  readonly eventsApplied: Counter<PeerLabel>;
  readonly eventsDeduped: Counter<PeerLabel | 'reason'>;
  readonly eventsRejected: Counter<PeerLabel | 'reason'>;
  readonly batchFlushes: Counter<PeerLabel>;
  readonly backpressurePauses: Counter<PeerLabel>;
  readonly rateLimitWaits: Counter<PeerLabel>;
  readonly streamGaps: Counter<PeerLabel | 'kind'>;
  readonly batchFlushDuration: Histogram<PeerLabel>;
  readonly streamReadDuration: Histogram<PeerLabel>;
  readonly applyLag: Histogram<PeerLabel>;
  readonly lagMs: Gauge<PeerLabel>;
  readonly lagEvents: Gauge<PeerLabel>;
  readonly batchSize: Gauge<PeerLabel>;
  readonly peerCatchingUp: Gauge<PeerLabel>;

  // Peers.
  readonly peerReconnects: Counter<PeerLabel>;
  readonly peerErrors: Counter<PeerLabel>;
  readonly clockSkew: Counter<PeerLabel>;
  // Extreme stamps and trace context (docs/reliability.md).
  readonly futureStamps: Counter<PeerLabel | 'path'>;
  readonly traceParentsDropped: Counter<PeerLabel>;
  readonly sloViolations: Counter<PeerLabel | 'slo'>;
  readonly peerLatency: Histogram<PeerLabel>;
  readonly peerConnected: Gauge<PeerLabel>;
  readonly peerCircuitState: Gauge<PeerLabel>;

  // Cold path.
  readonly repairCycles: Counter<PeerLabel | 'result'>;
  readonly repairItemsFetched: Counter<PeerLabel>;
  readonly repairItemsSubmitted: Counter<PeerLabel>;
  readonly merkleDivergences: Counter<PeerLabel>;
  readonly repairSkipped: Counter<PeerLabel | 'reason'>;
  readonly repairDuration: Histogram<PeerLabel>;

  // Node-wide.
  readonly cursorErrors: Counter;
  readonly localDataLoss: Counter;
  readonly tombstonesCollected: Counter;
  readonly localWrites: Counter<'op'>;
  readonly engineState: Gauge;
  readonly cursorRecovered: Gauge;
  readonly storeKeys: Gauge;

  constructor() {
    const registers = [this.registry];
    // Each metric labelled by peer is listed once, here, as it is made: removePeer drops them all.
    const track = <M extends Counter<string> | Gauge<string> | Histogram<string>>(metric: M, labelNames: readonly string[]): M => {
      if (labelNames.includes('peer_id')) this.perPeer.push(metric);
      return metric;
    };
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      track(new Counter<L>({ name, help, labelNames, registers }), labelNames);
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      track(new Gauge<L>({ name, help, labelNames, registers }), labelNames);
    const histogram = (name: string, help: string, buckets: number[]) =>
      track(new Histogram<PeerLabel>({ name, help, labelNames: ['peer_id'], buckets, registers }), ['peer_id']);
    const peer = ['peer_id'] as const;

    this.eventsRead = counter('replication_cdc_events_read_total', 'CDC stream entries read from the peer.', peer);
    this.eventsApplied = counter('replication_cdc_events_applied_total', 'Changes from the peer that won last-writer-wins and were written locally.', peer);
    this.eventsDeduped = counter(
      'replication_cdc_events_deduped_total',
      'Changes from the peer skipped without effect, by reason (own_origin, seen, collapsed, duplicate, stale).',
      ['peer_id', 'reason'],
    );
    this.eventsRejected = counter('replication_cdc_events_rejected_total', 'CDC entries from the peer rejected as malformed, by reason.', ['peer_id', 'reason']);
    this.batchFlushes = counter('replication_batch_flush_total', 'Batches applied from the peer (one apply call each).', peer);
    this.backpressurePauses = counter('replication_backpressure_pauses_total', 'Times reading from the peer paused because the local store refused writes.', peer);
    this.rateLimitWaits = counter('replication_rate_limit_waits_total', 'Times reading from the peer waited for the rate limiter.', peer);
    this.streamGaps = counter('replication_stream_gaps_total', 'Gaps found in the peer stream (trimmed past the cursor, or peer behind it).', ['peer_id', 'kind']);
    this.batchFlushDuration = histogram('replication_batch_flush_duration_seconds', 'Time to apply one batch from the peer.', LATENCY_BUCKETS);
    this.streamReadDuration = histogram('replication_stream_read_duration_seconds', 'Time of one non-empty XREAD from the peer stream.', LATENCY_BUCKETS);
    this.applyLag = histogram('replication_apply_lag_seconds', 'Time from a change being written on its origin (updated_at) to being applied here.', LAG_BUCKETS);
    this.lagMs = gauge('replication_lag_ms', 'Milliseconds between the peer stream head and the cursor.', peer);
    this.lagEvents = gauge('replication_lag_events', 'Entries in the peer stream not yet applied (estimate).', peer);
    this.batchSize = gauge('replication_batch_size', 'Current adaptive read size (XREAD COUNT) for the peer.', peer);
    this.peerCatchingUp = gauge('replication_peer_catching_up', '1 while the hot path is catching up with the peer (its cold path waits), else 0.', peer);

    this.peerReconnects = counter('replication_peer_reconnects_total', 'Reconnections to the peer Redis.', peer);
    this.peerErrors = counter('replication_peer_errors_total', 'Failed calls to the peer Redis.', peer);
    this.clockSkew = counter('replication_clock_skew_total', 'Changes from the peer stamped further ahead of the local clock than max_clock_skew.', peer);
    this.futureStamps = counter('replication_future_stamps_refused_total',
      'Changes from the peer refused for now: stamped further ahead of the wall clock than max_future_skew, by path (hot, cold).', ['peer_id', 'path']);
    this.traceParentsDropped = counter('replication_trace_parents_dropped_total', 'CDC entries from the peer whose invalid trace_parent was dropped (the change was still applied).', peer);
    this.sloViolations = counter('replication_slo_violations_total', 'SLO threshold breaches for the peer, by SLO.', ['peer_id', 'slo']);
    this.peerLatency = histogram('replication_peer_latency_seconds', 'Round trip of every successful call to the peer Redis (queries, pings, full XREADs).', LATENCY_BUCKETS);
    this.peerConnected = gauge('replication_peer_connected', '1 while connected to the peer Redis, else 0.', peer);
    this.peerCircuitState = gauge('replication_peer_circuit_state', 'Circuit breaker state for the peer: 0 closed, 1 half-open, 2 open.', peer);

    this.repairCycles = counter('replication_repair_cycles_total', 'Cold-path cycles with the peer, by result (in_sync, repaired, partial, failed).', ['peer_id', 'result']);
    this.repairItemsFetched = counter('replication_repair_items_fetched_total', 'Keys fetched from the peer by the cold path.', peer);
    this.repairItemsSubmitted = counter('replication_repair_items_submitted_total', 'Keys the cold path submitted to the apply path.', peer);
    this.merkleDivergences = counter('replication_merkle_divergences_total', 'Merkle branches found different from the peer tree, summed over cold-path cycles.', peer);
    this.repairSkipped = counter('replication_repair_skipped_total', 'Cold-path cycles with the peer skipped, by reason.', ['peer_id', 'reason']);
    this.repairDuration = histogram('replication_repair_duration_seconds', 'Duration of one cold-path cycle with the peer.', REPAIR_BUCKETS);

    this.cursorErrors = counter('replication_cursor_errors_total', 'Failed cursor reads or writes.', []);
    this.localDataLoss = counter('replication_local_data_loss_total', 'Times the local Redis was found to have lost its data (a full repair from every peer followed).', []);
    this.tombstonesCollected = counter('replication_tombstones_collected_total', 'Tombstones removed after tombstone_ttl.', []);
    this.localWrites = counter('replication_local_writes_total', 'Writes made through this node API, by operation.', ['op']);
    this.engineState = gauge('replication_engine_state', 'Engine state: 0 stopped, 1 starting, 2 running, 3 stopping.', []);
    this.cursorRecovered = gauge('replication_cursor_recovered', '1 after a corrupt cursor file was moved aside and replaced by an empty one.', []);
    this.storeKeys = gauge('replication_store_keys', 'Keys in the local store, as last reported by the store.', []);
  }

  /** Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Drop every series labelled with this peer (the peer left the configuration). */
  async removePeer(peerId: string): Promise<void> {
    for (const metric of this.perPeer) {
      if (metric instanceof Histogram) {
        // Histograms here carry only peer_id, so the exact label set is known.
        metric.remove({ peer_id: peerId });
        continue;
      }
      // prom-client removes exact label sets only; enumerate this peer's series first.
      const { values } = await metric.get();
      for (const { labels } of values) {
        if (labels.peer_id === peerId) metric.remove(labels);
      }
    }
  }
}
