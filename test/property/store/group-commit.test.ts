import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GroupCommit, type Settled } from '../../../src/store/group-commit.js';

interface Req { id: number; size: number; fails: boolean }
interface Call { batch: readonly Req[]; answer(): void; failWhole(): void }

/** A GroupCommit over a fake call that the test answers when it chooses. */
function harness(maxInFlight: number, maxCount: number, maxBytes: number) {
  const calls: Call[] = [];
  const sent: (readonly Req[])[] = [];
  let inFlight = 0;
  let maxSeen = 0;
  const group = new GroupCommit<Req, number>((batch) => new Promise<readonly Settled<number>[]>((resolve, reject) => {
    inFlight++;
    maxSeen = Math.max(maxSeen, inFlight);
    sent.push(batch);
    const done = (): void => void inFlight--;
    calls.push({
      batch,
      answer: () => {
        done();
        resolve(batch.map((r) => (r.fails ? { ok: false, error: new Error(`bad ${r.id}`) } : { ok: true, value: r.id * 10 })));
      },
      failWhole: () => {
        done();
        reject(new Error('connection lost'));
      },
    });
  }), { maxInFlight, maxCount, maxBytes: () => maxBytes, sizeOf: (r) => r.size });
  return { group, calls, sent, maxInFlightSeen: () => maxSeen };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Action = { kind: 'submit'; size: number; fails: boolean } | { kind: 'answer'; pick: number; whole: boolean };
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('submit' as const), size: fc.integer({ min: 1, max: 120 }), fails: fc.boolean() }),
  fc.record({ kind: fc.constant('answer' as const), pick: fc.nat(), whole: fc.boolean() }),
);

describe('GroupCommit', () => {
  it('sends in submission order within its bounds, and settles each request once with its own outcome', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 300 }), fc.array(action, { maxLength: 60 }),
      async (maxInFlight, maxCount, maxBytes, actions) => {
        const h = harness(maxInFlight, maxCount, maxBytes);
        const outcomes = new Map<number, { value?: number; error?: string; times: number }>();
        const wholeFailed = new Set<number>();
        let next = 0;
        const settle = (id: number, o: { value?: number; error?: string }): void => {
          const prev = outcomes.get(id);
          outcomes.set(id, { ...o, times: (prev?.times ?? 0) + 1 });
        };
        const answer = async (pick: number, whole: boolean): Promise<void> => {
          const call = h.calls.splice(pick % h.calls.length, 1)[0]!;
          if (whole) {
            for (const r of call.batch) wholeFailed.add(r.id);
            call.failWhole();
          } else {
            call.answer();
          }
          await flush();
        };
        for (const a of actions) {
          if (a.kind === 'submit') {
            const id = next++;
            h.group.submit({ id, size: a.size, fails: a.fails }).then((v) => settle(id, { value: v }), (e: Error) => settle(id, { error: e.message }));
            await flush();
          } else if (h.calls.length > 0) {
            await answer(a.pick, a.whole);
          }
        }
        while (h.calls.length > 0) await answer(0, false);

        // Every request was sent exactly once, in submission order, in batches within the bounds.
        expect(h.sent.flat().map((r) => r.id)).toEqual(Array.from({ length: next }, (_, i) => i));
        for (const b of h.sent) {
          expect(b.length).toBeGreaterThanOrEqual(1);
          expect(b.length).toBeLessThanOrEqual(maxCount);
          if (b.length > 1) expect(b.reduce((s, r) => s + r.size, 0)).toBeLessThanOrEqual(maxBytes);
        }
        expect(h.maxInFlightSeen()).toBeLessThanOrEqual(maxInFlight);
        // Each settled once: a whole-call failure fails all it carried; otherwise each its own way.
        const requests = h.sent.flat();
        for (const r of requests) {
          const o = outcomes.get(r.id);
          expect(o?.times).toBe(1);
          if (wholeFailed.has(r.id)) expect(o?.error).toBe('connection lost');
          else if (r.fails) expect(o?.error).toBe(`bad ${r.id}`);
          else expect(o?.value).toBe(r.id * 10);
        }
        expect(h.group.queued).toBe(0);
        expect(h.group.inFlight).toBe(0);
      },
    ), { numRuns: 300 });
  });

  it('sends a lone request at once, and coalesces what queues behind the calls in flight', async () => {
    const h = harness(1, 100, 10_000);
    const first = h.group.submit({ id: 0, size: 1, fails: false });
    expect(h.sent).toHaveLength(1);
    const rest = [1, 2, 3].map((id) => h.group.submit({ id, size: 1, fails: false }));
    expect(h.sent).toHaveLength(1);
    expect(h.group.queued).toBe(3);
    h.calls.shift()!.answer();
    expect(await first).toBe(0);
    expect(h.sent.map((b) => b.map((r) => r.id))).toEqual([[0], [1, 2, 3]]);
    h.calls.shift()!.answer();
    expect(await Promise.all(rest)).toEqual([10, 20, 30]);
  });

  it('fails every request of a call that answers the wrong number of results', async () => {
    const group = new GroupCommit<number, number>(async () => [{ ok: true, value: 1 }], { maxInFlight: 1, maxCount: 10, maxBytes: () => 100, sizeOf: () => 1 });
    const a = group.submit(1);
    const b = group.submit(2);
    const c = group.submit(3);
    expect(await a).toBe(1);
    await expect(b).rejects.toThrow(/answered 1 results for 2 requests/);
    await expect(c).rejects.toThrow(/answered 1 results for 2 requests/);
  });

  it('refuses bounds that are not positive integers', () => {
    expect(() => new GroupCommit(async () => [], { maxInFlight: 0, maxCount: 1, maxBytes: () => 1, sizeOf: () => 1 })).toThrow(/maxInFlight/);
    expect(() => new GroupCommit(async () => [], { maxInFlight: 1, maxCount: 1.5, maxBytes: () => 1, sizeOf: () => 1 })).toThrow(/maxCount/);
  });
});
