/**
 * The batches a tailer has sent to the store and not yet finished (docs/hot-path.md: the apply
 * window). Their applies run at the same time — Redis queues them on the store's connection and
 * runs them in order — while their finishing (moving the cursor, metrics) runs strictly in the
 * order they were sent, each only after the one before it.
 */
export class ApplyWindow {
  readonly size: number;
  /** The finishing of every batch sent, oldest first: true when it moved the cursor. */
  private pending: Promise<boolean>[] = [];
  /** The finishing of the batch sent last. */
  private last: Promise<unknown> = Promise.resolve();

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError('ApplyWindow size must be a positive integer');
    this.size = size;
  }

  /**
   * Tracks one apply just sent: `finish` runs with its result once it settled and every batch sent
   * before it has finished. `applied` must not reject (carry a failure in the result) and `finish`
   * must not throw: either would stop every later batch from finishing.
   */
  add<T>(applied: Promise<T>, finish: (result: T) => boolean): void {
    const previous = this.last;
    const finished = (async (): Promise<boolean> => {
      const result = await applied;
      await previous;
      return finish(result);
    })();
    this.last = finished;
    this.pending.push(finished);
  }

  /** Resolves once fewer than `size` batches are unfinished. */
  async waitForRoom(): Promise<void> {
    while (this.pending.length >= this.size) await this.pending.shift();
  }

  /** Resolves once every batch sent has finished. */
  async drain(): Promise<void> {
    await this.last;
    this.pending = [];
  }
}
