/**
 * ColdPathScheduler logic: priority order, backoff growth and reset, skips (catching up,
 * circuit open), requested repairs at once, one repair per peer at a time, and the loop's
 * start/stop. An injected clock or vitest fake timers: no real sleeps, no timing assertions.
 * Fake peers and a fake local store only (no Redis); data moving between real stores is
 * test/integration/cold-path/scheduler.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalStore } from '../../../src/store/local-store.js';
import { BASE, count, deferred, fakeReader, fakeStore, peer, results, scheduler, SETTINGS } from '../../support/scheduler-fixtures.js';

describe('ColdPathScheduler: ordering and backoff (fake peers)', () => {
  it('runs peers in ascending priority, ties by peer id', async () => {
    const log: string[] = [];
    const { s } = scheduler(fakeStore);
    s.setPeers([
      peer('p-b', fakeReader({ log, name: 'p-b' }), 1),
      peer('p-d', fakeReader({ log, name: 'p-d' }), 2),
      peer('p-a', fakeReader({ log, name: 'p-a' }), 1),
      peer('p-c', fakeReader({ log, name: 'p-c' }), 0),
    ]);
    expect(results(await s.repairNow())).toEqual(['p-c:in_sync', 'p-a:in_sync', 'p-b:in_sync', 'p-d:in_sync']);
    expect(log).toEqual(['p-c', 'p-a', 'p-b', 'p-d']);
  });

  it('backs off a failing peer exponentially up to the max, and resets after a success', async () => {
    let down = true;
    const reader = fakeReader({ down: () => down });
    const p = peer('p', reader);
    const { s, metrics, clock } = scheduler(fakeStore); // base 5 s, max 20 s
    s.setPeers([p]);
    const at = async (sec: number): Promise<string> => {
      clock.ms = BASE + sec * 1000;
      return results(await s.repairNow())[0]!;
    };
    expect(await at(0)).toBe('p:failed'); // retry from 5
    expect(await at(4)).toBe('p:skipped:backoff');
    expect(await at(5)).toBe('p:failed'); // retry from 5 + 10 = 15
    expect(await at(14)).toBe('p:skipped:backoff');
    expect(await at(15)).toBe('p:failed'); // 15 + 20 = 35
    expect(await at(34)).toBe('p:skipped:backoff');
    expect(await at(35)).toBe('p:failed'); // capped: 35 + 20 = 55
    expect(await at(54)).toBe('p:skipped:backoff');
    expect(p.hooks.failures).toBe(4);
    expect(s.lastRepair('p')).toMatchObject({ result: 'failed', items: 0, error: expect.stringContaining('peer_read_failed') });

    down = false;
    expect(await at(55)).toBe('p:in_sync');
    expect(p.hooks.successes).toBe(1);
    down = true;
    expect(await at(56)).toBe('p:failed'); // reset: back to the base delay
    expect(await at(60)).toBe('p:skipped:backoff');
    expect(await at(61)).toBe('p:failed');
    expect(await count(metrics.repairSkipped, { peer_id: 'p', reason: 'backoff' })).toBe(5);
    expect(await count(metrics.repairCycles, { peer_id: 'p', result: 'failed' })).toBe(6);
    expect(await count(metrics.repairCycles, { peer_id: 'p', result: 'in_sync' })).toBe(1);
  });

  it('skips a peer whose circuit is open; a requested repair waits for the circuit and then ignores catching-up', async () => {
    const reader = fakeReader();
    const p = peer('p', reader, 0, { circuitOpen: true, catchingUp: true });
    const { s, metrics } = scheduler(fakeStore);
    s.setPeers([p]);
    expect(results(await s.repairNow())).toEqual(['p:skipped:catching_up']);
    p.hooks.catchingUp = false;
    expect(results(await s.repairNow())).toEqual(['p:skipped:circuit_open']);
    p.hooks.catchingUp = true;
    expect(await s.requestRepair('p', 'trimmed')).toMatchObject({ result: 'skipped', reason: 'circuit_open', requested: true });
    expect(reader.checks).toBe(0);
    // Circuit closes: the next cycle runs the pending request, though the hot path is catching up.
    p.hooks.circuitOpen = false;
    expect(await s.repairNow()).toMatchObject([{ result: 'in_sync', requested: true }]);
    // Served: scheduled cycles skip while catching up again.
    expect(results(await s.repairNow())).toEqual(['p:skipped:catching_up']);
    expect(await count(metrics.repairSkipped, { peer_id: 'p', reason: 'circuit_open' })).toBe(2);
    expect(await count(metrics.repairSkipped, { peer_id: 'p', reason: 'catching_up' })).toBe(2);
  });

  it('skips while the local store refuses writes (backpressure) and keeps a requested repair pending', async () => {
    let accepting = false;
    const store: LocalStore = { ...fakeStore, shouldAcceptWrites: async () => accepting };
    const reader = fakeReader();
    const { s, metrics } = scheduler(store);
    s.setPeers([peer('p', reader, 0, { catchingUp: true })]);
    expect(await s.requestRepair('p', 'trimmed')).toMatchObject({ result: 'skipped', reason: 'backpressure', requested: true });
    expect(reader.checks).toBe(0);
    accepting = true;
    expect(await s.repairNow()).toMatchObject([{ result: 'in_sync', requested: true }]);
    expect(await count(metrics.repairSkipped, { peer_id: 'p', reason: 'backpressure' })).toBe(1);
  });

  it('never runs two repairs with one peer at once; queued requests coalesce', async () => {
    let active = 0;
    let maxActive = 0;
    const gates: { resolve: () => void }[] = [];
    const reader = fakeReader({
      gate: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        const d = deferred();
        gates.push(d);
        await d.promise;
        active--;
      },
    });
    const { s } = scheduler(fakeStore);
    s.setPeers([peer('p', reader)]);
    const all = Promise.all([s.repairNow('p'), s.requestRepair('p', 'trimmed'), s.requestRepair('p', 'peer_behind'), s.repairNow()]);
    // Release each repair as it reaches the peer; only ever one is waiting.
    for (let released = 0; released < 3; released++) {
      while (gates.length === 0) await new Promise((r) => setImmediate(r));
      expect(active).toBe(1);
      gates.shift()!.resolve();
    }
    const [a, b, c, d] = await all;
    expect(maxActive).toBe(1);
    expect(reader.checks).toBe(3); // the two requests were one repair
    expect(b).toBe(c);
    expect([a[0]!.result, b.result, d[0]!.result]).toEqual(['in_sync', 'in_sync', 'in_sync']);
  });

  it('a throwing peer callback is a failed cycle, never an exception', async () => {
    const p = peer('p', fakeReader());
    p.isCatchingUp = () => {
      throw new Error('boom');
    };
    const { s, metrics } = scheduler(fakeStore);
    s.setPeers([p, peer('q', fakeReader(), 1)]);
    expect(results(await s.repairNow())).toEqual(['p:failed', 'q:in_sync']);
    expect(s.lastRepair('p')?.error).toContain('boom');
    expect(await count(metrics.repairCycles, { peer_id: 'p', result: 'failed' })).toBe(1);
    expect(await s.requestRepair('nobody', 'trimmed')).toMatchObject({ result: 'skipped', reason: 'unknown_peer' });
  });
});

describe('ColdPathScheduler: the loop (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a cycle every interval, applies a new interval, and stop() interrupts the sleep and waits for the cycle in flight', async () => {
    vi.useFakeTimers();
    let gate: { promise: Promise<void>; resolve: () => void } | null = null;
    const reader = fakeReader({ gate: () => gate?.promise ?? Promise.resolve() });
    const { s } = scheduler(fakeStore, { settings: { interval_sec: 10 }, useDateNow: true });
    s.setPeers([peer('p', reader)]);
    s.start();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(reader.checks).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(reader.checks).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reader.checks).toBe(2);

    // A shorter interval takes effect from the last cycle's start.
    s.updateSettings({ ...SETTINGS, interval_sec: 2 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reader.checks).toBe(3);
    // Disabled: the loop idles.
    s.updateSettings({ ...SETTINGS, interval_sec: 2, enabled: false });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reader.checks).toBe(3);
    s.updateSettings({ ...SETTINGS, interval_sec: 2 });

    // A cycle blocked on the peer: stop() waits for it.
    gate = deferred();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(reader.checks).toBe(4);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(stopped).toBe(true);

    // Stopped while sleeping: resolves without any time passing.
    gate = null;
    s.start();
    await s.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reader.checks).toBe(4);
  });

  it('with periodic repairs off, retries a requested repair that failed, or that a gate deferred, every interval until it is done', async () => {
    vi.useFakeTimers();
    let down = true;
    const reader = fakeReader({ down: () => down });
    const p = peer('p', reader);
    const { s } = scheduler(fakeStore, { settings: { interval_sec: 10, enabled: false }, useDateNow: true });
    s.setPeers([p]);
    s.start();
    expect(await s.requestRepair('p', 'trimmed')).toMatchObject({ result: 'failed', requested: true });
    expect(reader.checks).toBe(1);
    // Still down at the next interval: tried again, still pending.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reader.checks).toBe(2);
    // The peer is back: the next interval serves it as the requested repair it is.
    down = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reader.checks).toBe(3);
    expect(s.lastRepair('p')).toMatchObject({ result: 'in_sync' });
    // Done: nothing is pending, and with periodic repairs off nothing more runs.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reader.checks).toBe(3);
    await s.stop();
  });

  it('with periodic repairs off, serves a requested repair an open circuit deferred once the circuit closes', async () => {
    vi.useFakeTimers();
    const reader = fakeReader();
    const p = peer('p', reader, 0, { circuitOpen: true });
    const { s } = scheduler(fakeStore, { settings: { interval_sec: 10, enabled: false }, useDateNow: true });
    s.setPeers([p]);
    s.start();
    expect(await s.requestRepair('p', 'trimmed')).toMatchObject({ result: 'skipped', reason: 'circuit_open', requested: true });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reader.checks).toBe(0);
    p.hooks.circuitOpen = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reader.checks).toBe(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reader.checks).toBe(1);
    await s.stop();
  });
});
