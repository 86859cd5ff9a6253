import { describe, expect, it } from 'vitest';
import { register } from 'prom-client';
import { EngineMetrics } from '../../../src/observability/metrics.js';
import { engineStateValue } from '../../../src/engine/engine-state.js';

const NAMES = {
  counter: [
    'replication_cdc_events_read_total', 'replication_cdc_events_applied_total', 'replication_cdc_events_deduped_total',
    'replication_cdc_events_rejected_total', 'replication_batch_flush_total', 'replication_backpressure_pauses_total',
    'replication_rate_limit_waits_total', 'replication_stream_gaps_total', 'replication_peer_reconnects_total',
    'replication_peer_errors_total', 'replication_clock_skew_total', 'replication_future_stamps_refused_total', 'replication_trace_parents_dropped_total', 'replication_slo_violations_total',
    'replication_cursor_errors_total', 'replication_local_data_loss_total', 'replication_repair_cycles_total', 'replication_repair_items_fetched_total',
    'replication_repair_items_submitted_total', 'replication_merkle_divergences_total', 'replication_repair_skipped_total',
    'replication_tombstones_collected_total', 'replication_local_writes_total',
  ],
  histogram: [
    'replication_batch_flush_duration_seconds', 'replication_peer_latency_seconds', 'replication_stream_read_duration_seconds',
    'replication_repair_duration_seconds', 'replication_apply_lag_seconds',
  ],
  gauge: [
    'replication_lag_ms', 'replication_lag_events', 'replication_batch_size', 'replication_peer_connected',
    'replication_peer_circuit_state', 'replication_peer_catching_up', 'replication_engine_state',
    'replication_cursor_recovered', 'replication_store_keys',
  ],
};

/** Touch every per-peer series for `peer` (multi-label ones with two label values). */
function touchPeer(m: EngineMetrics, peer: string): void {
  const p = { peer_id: peer };
  m.eventsRead.inc(p);
  m.eventsApplied.inc(p);
  m.eventsDeduped.inc({ ...p, reason: 'own_origin' });
  m.eventsDeduped.inc({ ...p, reason: 'stale' });
  m.eventsRejected.inc({ ...p, reason: 'hash_mismatch' });
  m.batchFlushes.inc(p);
  m.backpressurePauses.inc(p);
  m.rateLimitWaits.inc(p);
  m.streamGaps.inc({ ...p, kind: 'trimmed' });
  m.batchFlushDuration.observe(p, 0.01);
  m.streamReadDuration.observe(p, 0.01);
  m.applyLag.observe(p, 0.2);
  m.lagMs.set(p, 5);
  m.lagEvents.set(p, 3);
  m.batchSize.set(p, 100);
  m.peerCatchingUp.set(p, 0);
  m.peerReconnects.inc(p);
  m.peerErrors.inc(p);
  m.clockSkew.inc(p);
  m.futureStamps.inc({ ...p, path: 'hot' });
  m.traceParentsDropped.inc(p);
  m.sloViolations.inc({ ...p, slo: 'max_lag' });
  m.peerLatency.observe(p, 0.001);
  m.peerConnected.set(p, 1);
  m.peerCircuitState.set(p, 0);
  m.repairCycles.inc({ ...p, result: 'in_sync' });
  m.repairCycles.inc({ ...p, result: 'repaired' });
  m.repairItemsFetched.inc(p);
  m.repairItemsSubmitted.inc(p);
  m.merkleDivergences.inc(p);
  m.repairSkipped.inc({ ...p, reason: 'catching_up' });
  m.repairDuration.observe(p, 1);
}

describe('EngineMetrics', () => {
  it('exposes every metric with its type and help text', async () => {
    const m = new EngineMetrics();
    const text = await m.text();
    for (const [type, names] of Object.entries(NAMES)) {
      for (const name of names) {
        expect(text).toContain(`# TYPE ${name} ${type}\n`);
        expect(text).toMatch(new RegExp(`# HELP ${name} \\S`));
      }
    }
    const all = Object.values(NAMES).flat();
    expect(m.registry.getMetricsAsArray().map((x) => x.name).sort()).toEqual([...all].sort());
    expect(m.contentType).toMatch(/text\/plain/);
  });

  it('uses the peer_id label and its own registry, never the global one', async () => {
    const m = new EngineMetrics();
    m.eventsRead.inc({ peer_id: 'node-b' }, 3);
    expect(await m.text()).toContain('replication_cdc_events_read_total{peer_id="node-b"} 3');
    expect(register.getSingleMetric('replication_cdc_events_read_total')).toBeUndefined();
  });

  it('two instances do not collide', async () => {
    const a = new EngineMetrics();
    const b = new EngineMetrics();
    a.eventsApplied.inc({ peer_id: 'node-b' }, 7);
    b.engineState.set(engineStateValue('running'));
    expect(await a.text()).toContain('replication_cdc_events_applied_total{peer_id="node-b"} 7');
    expect(await b.text()).not.toContain('peer_id="node-b"');
    expect(await a.text()).toContain('replication_engine_state 0');
    expect(await b.text()).toContain('replication_engine_state 2');
  });

  it('removePeer drops that peer’s series, all label combinations, and keeps the others', async () => {
    const m = new EngineMetrics();
    touchPeer(m, 'node-b');
    touchPeer(m, 'node-c');
    m.localWrites.inc({ op: 'put' });
    expect(await m.text()).toContain('peer_id="node-b"');

    await m.removePeer('node-b');
    const text = await m.text();
    expect(text).not.toContain('peer_id="node-b"');
    expect(text).toContain('replication_cdc_events_deduped_total{peer_id="node-c",reason="own_origin"} 1');
    expect(text).toContain('replication_repair_duration_seconds_count{peer_id="node-c"} 1');
    expect(text).toContain('replication_local_writes_total{op="put"} 1');
    // Every per-peer metric still has node-c's series.
    const perPeer = Object.values(NAMES).flat().filter((name) => !['replication_cursor_errors_total', 'replication_local_data_loss_total', 'replication_tombstones_collected_total', 'replication_local_writes_total', 'replication_engine_state', 'replication_cursor_recovered', 'replication_store_keys'].includes(name));
    for (const name of perPeer) {
      const { values } = await m.registry.getSingleMetric(name)!.get();
      expect(values.some((v) => v.labels.peer_id === 'node-c'), name).toBe(true);
      expect(values.some((v) => v.labels.peer_id === 'node-b'), name).toBe(false);
    }
  });

  it('maps engine states to the gauge values documented in docs/metrics.md', () => {
    expect(['stopped', 'starting', 'running', 'stopping'].map((s) => engineStateValue(s as never))).toEqual([0, 1, 2, 3]);
  });
});
