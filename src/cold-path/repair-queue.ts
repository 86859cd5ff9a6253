/**
 * Repairs with one peer run one after another, never two at once: each is queued behind the
 * previous one for that peer. Requests queued and not started yet are merged into one (they
 * would repair the same thing). A job never rejects out of the queue.
 */
export class RepairQueue<T> {
  /** Per peer: the last job queued (its completion is where the next one starts). */
  private readonly tails = new Map<string, Promise<unknown>>();
  /** Per peer: a merging job queued and not started yet. */
  private readonly waiting = new Map<string, Promise<T>>();
  private readonly inFlight = new Set<Promise<unknown>>();

  /** Opens a queue for this peer (kept if open). */
  open(peerId: string): void {
    if (!this.tails.has(peerId)) this.tails.set(peerId, Promise.resolve());
  }

  /** Drops this peer's queue: jobs already queued still run; new ones start a new queue. */
  close(peerId: string): void {
    this.tails.delete(peerId);
    this.waiting.delete(peerId);
  }

  isOpen(peerId: string): boolean {
    return this.tails.has(peerId);
  }

  /**
   * Queues `job` behind every job queued before it for this peer. `merge`: join a merging job queued
   * and not started yet instead. `crashed` turns an unexpected rejection into a result.
   */
  push(peerId: string, job: () => Promise<T>, options: { merge: boolean; crashed: (err: unknown) => T }): Promise<T> {
    const queued = options.merge ? this.waiting.get(peerId) : undefined;
    if (queued) return queued;
    const tail = this.tails.get(peerId) ?? Promise.resolve();
    const start = (): Promise<T> => {
      if (options.merge && this.waiting.get(peerId) === run) this.waiting.delete(peerId);
      return job();
    };
    const run: Promise<T> = tail.then(start, start).catch(options.crashed);
    this.tails.set(peerId, run);
    if (options.merge) this.waiting.set(peerId, run);
    this.inFlight.add(run);
    void run.then(() => this.inFlight.delete(run));
    return run;
  }

  /** Resolves once every job queued (including those queued meanwhile) has finished. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
