// One tailer's accounting: counters and metric series bound once for its peer, counted exactly as
// per-batch label lookups counted them, and no series made before there is something to count.
import { describe, expect, it } from 'vitest';
import { EngineMetrics } from '../../../src/observability/metrics.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { PreparedBatch } from '../../../src/hot-path/prepare-batch.js';
import { TailerMetrics, type SentChange } from '../../../src/hot-path/tailer-metrics.js';

async function series(m: EngineMetrics, name: string): Promise<Record<string, number>> {
  const { values } = await m.registry.getSingleMetric(name)!.get();
  const out: Record<string, number> = {};
  for (const v of values) {
    // A histogram's series: its count only.
    const name = (v as { metricName?: string }).metricName;
    if (name !== undefined && !name.endsWith('_count')) continue;
    out[Object.entries(v.labels).filter(([k]) => k !== 'peer_id' || true).map(([k, l]) => `${k}=${String(l)}`).sort().join(',')] = v.value;
  }
  return out;
}

const prepared = (over: Partial<PreparedBatch>): PreparedBatch => ({
  consumed: 0, winners: [], rejected: [], ownOrigin: 0, seen: 0, collapsed: 0, skewed: [], future: [], traceParentsDropped: 0, ...over,
});

const change = (key: string, updatedAt: number): SentChange => ({ key, hlc: '0001735776000000-00000', origin: 'b', updatedAt });

describe('TailerMetrics', () => {
  it('binding the series for a peer makes none of them', async () => {
    const m = new EngineMetrics();
    new TailerMetrics(m, 'b', silentLogger());
    expect(await m.text()).not.toContain('peer_id="b"');
  });

  it('counts a batch read by reason, for its peer only', async () => {
    const m = new EngineMetrics();
    const t = new TailerMetrics(m, 'b', silentLogger());
    t.countRead(7, prepared({
      rejected: [{ id: '1-0', reason: 'bad_meta', message: 'x' }, { id: '2-0', reason: 'too_large', message: 'y' }, { id: '3-0', reason: 'bad_meta', message: 'z' }],
      ownOrigin: 2, collapsed: 1, traceParentsDropped: 1,
      skewed: [{ id: '4-0', op: 'DEL', key: 'k', hlc: '0001735776000000-00000', origin: 'b', updatedAt: 0 }],
    }));
    expect(await series(m, 'replication_cdc_events_read_total')).toEqual({ 'peer_id=b': 7 });
    expect(await series(m, 'replication_cdc_events_rejected_total')).toEqual({ 'peer_id=b,reason=bad_meta': 2, 'peer_id=b,reason=too_large': 1 });
    expect(await series(m, 'replication_cdc_events_deduped_total')).toEqual({ 'peer_id=b,reason=own_origin': 2, 'peer_id=b,reason=collapsed': 1 });
    expect(await series(m, 'replication_clock_skew_total')).toEqual({ 'peer_id=b': 1 });
    expect(await series(m, 'replication_trace_parents_dropped_total')).toEqual({ 'peer_id=b': 1 });
    expect(t.counters).toMatchObject({ eventsRead: 7, eventsRejected: 3, eventsDeduped: 3 });
  });

  it('counts an applied batch by outcome and hands the refused-as-future changes back', async () => {
    const m = new EngineMetrics();
    const t = new TailerMetrics(m, 'b', silentLogger());
    const recorded: string[] = [];
    const recent = { record: (key: string) => recorded.push(key) } as unknown as Parameters<TailerMetrics['countApplied']>[4];
    const future: string[] = [];
    const changes = [change('a', 900), change('b', 950), change('c', 0), change('d', 0), change('e', 0)];
    t.countApplied(changes, ['applied', 'applied', 'duplicate', 'stale', 'future'], 20, 1000, recent, (c) => future.push(c.key));
    expect(await series(m, 'replication_cdc_events_applied_total')).toEqual({ 'peer_id=b': 2 });
    expect(await series(m, 'replication_cdc_events_deduped_total')).toEqual({ 'peer_id=b,reason=duplicate': 1, 'peer_id=b,reason=stale': 1 });
    expect(await series(m, 'replication_batch_flush_total')).toEqual({ 'peer_id=b': 1 });
    expect(await series(m, 'replication_apply_lag_seconds')).toEqual({ 'peer_id=b': 2 });
    expect(recorded).toEqual(['a', 'b', 'c', 'd']);
    expect(future).toEqual(['e']);
    expect(t.counters).toMatchObject({ eventsApplied: 2, eventsDeduped: 2, batches: 1 });
  });

  it('counts gaps by kind, and held-back changes on the hot path', async () => {
    const m = new EngineMetrics();
    const t = new TailerMetrics(m, 'b', silentLogger());
    t.countGap('trimmed', '5-0', null);
    t.countGap('peer_behind', '5-0', null);
    t.countGap('trimmed', '5-0', null);
    expect(await series(m, 'replication_stream_gaps_total')).toEqual({ 'kind=trimmed,peer_id=b': 2, 'kind=peer_behind,peer_id=b': 1 });
    expect(t.counters.gaps).toBe(3);
    const from = t.heldBack('k', '0001735776000000-00000', 'b', '9-0', 1000);
    expect(from).toBe(1735776000000 - 1000);
    expect(await series(m, 'replication_future_stamps_refused_total')).toEqual({ 'path=hot,peer_id=b': 1 });
  });
});
