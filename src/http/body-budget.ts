/**
 * The bytes of request bodies held at once, across every request (`http.max_inflight_body_bytes`).
 * Each body takes a lease; bytes are reserved before they are buffered (all of an announced
 * Content-Length up front) and given back when the body is no longer held: refused, or its
 * store call settled. Refusing beats queueing here: a queue of waiting bodies is memory too.
 */
export class BodyBudget {
  private used = 0;

  constructor(private limit: number) {}

  setLimit(limit: number): void {
    this.limit = limit;
  }

  get inUse(): number {
    return this.used;
  }

  lease(): BodyLease {
    return new BodyLease(this);
  }

  /** @internal for BodyLease */
  take(bytes: number): boolean {
    // A body alone is always admitted, so one record of max_payload_bytes passes whatever the limit.
    if (this.used > 0 && this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** @internal for BodyLease */
  give(bytes: number): void {
    this.used -= bytes;
  }
}

export class BodyLease {
  private held = 0;
  private released = false;

  constructor(private readonly budget: BodyBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** Makes the lease at least `total` bytes; false (nothing taken) when the budget cannot. */
  reserve(total: number): boolean {
    if (this.released) return false;
    if (total <= this.held) return true;
    if (!this.budget.take(total - this.held)) return false;
    this.held = total;
    return true;
  }

  /** Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.held);
    this.held = 0;
  }
}
