// The last-writer-wins oracle: every write the workload sent, acknowledged (200 with its stamp) or of unknown
// outcome (timeout, connection error, 500), and the verdict on a converged mesh's record set.
//
// Rule (docs/architecture.md): for each key the acknowledged PUT or DEL with the greatest (hlc, origin) wins; a key whose
// winner is a DEL is absent. A request whose outcome is unknown may or may not have happened, so a key it
// touched may also hold that request's value (when its stamp beats every acknowledged one), or be absent
// (an unknown DEL) — as long as every node agrees, which is checked before the oracle runs.
//
// Every PUT carries unique content, so a record's hash names the exact request that wrote it.

// The oracle keeps its own copy of the (hlc, origin) order on purpose: a bug in src/model/stamp.ts must not
// be able to hide itself by being shared with the check.
export interface Stamp {
  hlc: string;
  origin: string;
}

/** (hlc, origin) order: hlc strings first (fixed width, so string order is time order), then origin. */
export function compareStamps(a: Stamp, b: Stamp): -1 | 0 | 1 {
  if (a.hlc !== b.hlc) return a.hlc < b.hlc ? -1 : 1;
  if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
  return 0;
}

export interface PutRequest {
  op: 'put';
  key: string;
  /** The node id the request was sent to (the origin of its stamp if it happened). */
  node: string;
  hash: string;
}

export interface DelRequest {
  op: 'del';
  key: string;
  node: string;
}

export type WriteRequest = PutRequest | DelRequest;

export type Acked = WriteRequest & Stamp & { version?: number; /** Wall-clock ms when the 200 arrived. */ ackedAt: number };

/**
 * How far ahead of wall clock a stamp may be before the clock rule calls it pinned. Every node shares this
 * machine's clock, so no legitimate stamp is ahead of the moment it was acknowledged at all; only a received
 * stamp from the future (the hostile-stamp faults inject nothing nearer than the year 2100) can push a clock
 * ahead. Must stay at least the mesh's `max_future_skew` (a node may legitimately accept a change up to that far
 * ahead).
 */
export const FUTURE_STAMP_BOUND_MS = 60_000;

/** The physical milliseconds of an hlc, exactly (BigInt: the suite must not share the engine's double arithmetic). */
export function hlcMs(hlc: string): bigint | null {
  return /^\d{16}-\d{5}$/.test(hlc) ? BigInt(hlc.slice(0, 16)) : null;
}

export type Unknown = WriteRequest & { why: string };

/** A live record as `GET /v1/items` lists it. */
export interface ListedRecord {
  key: string;
  hash: string;
  hlc: string;
  origin: string;
  version: number;
}

export interface Violation {
  key: string;
  problem: string;
}

export class Oracle {
  private readonly acked = new Map<string, Acked[]>();
  private readonly unknown = new Map<string, Unknown[]>();
  private readonly putsByHash = new Map<string, { request: PutRequest; acked: Acked | null }>();
  /** Acknowledged responses that contradict the request (wrong origin, malformed stamp): bugs in themselves. */
  readonly responseErrors: string[] = [];
  ackedPuts = 0;
  ackedDeletes = 0;
  unknownCount = 0;
  refused = 0;

  ack(request: WriteRequest, response: Stamp & { version?: number; hash?: string; key?: string }, ackedAt = Date.now()): void {
    if (response.origin !== request.node) this.responseErrors.push(`${request.op} ${request.key} on ${request.node}: acknowledged with origin ${response.origin}`);
    if (response.key !== undefined && response.key !== request.key) this.responseErrors.push(`${request.op} ${request.key}: acknowledged for key ${response.key}`);
    if (!/^\d{16}-\d{5}$/.test(response.hlc)) this.responseErrors.push(`${request.op} ${request.key}: malformed hlc ${response.hlc}`);
    if (request.op === 'put' && response.hash !== request.hash) this.responseErrors.push(`put ${request.key}: acknowledged hash ${response.hash}, sent ${request.hash}`);
    const entry: Acked = { ...request, hlc: response.hlc, origin: response.origin, ackedAt, ...(response.version === undefined ? {} : { version: response.version }) };
    push(this.acked, request.key, entry);
    if (request.op === 'put') {
      this.ackedPuts++;
      this.putsByHash.set(request.hash, { request, acked: entry });
    } else {
      this.ackedDeletes++;
    }
  }

  unknownOutcome(request: WriteRequest, why: string): void {
    this.unknownCount++;
    push(this.unknown, request.key, { ...request, why });
    if (request.op === 'put' && !this.putsByHash.has(request.hash)) this.putsByHash.set(request.hash, { request, acked: null });
  }

  /** A definite refusal (503 not_accepting_writes): nothing happened. */
  refusedWrite(): void {
    this.refused++;
  }

  keys(): string[] {
    return [...new Set([...this.acked.keys(), ...this.unknown.keys()])].sort();
  }

  /** The greatest acknowledged op of a key. */
  winner(key: string): Acked | undefined {
    let best: Acked | undefined;
    for (const a of this.acked.get(key) ?? []) if (best === undefined || compareStamps(a, best) > 0) best = a;
    return best;
  }

  /** key → the greatest acknowledged stamp: what must survive anywhere in the mesh (see the wipe rule). */
  ackedHighWater(): Map<string, Stamp> {
    const out = new Map<string, Stamp>();
    for (const key of this.acked.keys()) {
      const w = this.winner(key)!;
      out.set(key, { hlc: w.hlc, origin: w.origin });
    }
    return out;
  }

  /** Checks a converged record set (the same on every node) against the oracle. */
  check(records: readonly ListedRecord[]): Violation[] {
    const violations: Violation[] = [...this.responseErrors.map((problem) => ({ key: '', problem }))];
    const present = new Map(records.map((r) => [r.key, r]));
    for (const r of records) {
      if (!this.acked.has(r.key) && !this.unknown.has(r.key)) violations.push({ key: r.key, problem: `present (${r.hlc} ${r.origin}) but no request ever wrote it` });
    }
    for (const key of this.keys()) {
      const problem = this.checkKey(key, present.get(key));
      if (problem !== null) violations.push({ key, problem });
    }
    return violations;
  }

  private checkKey(key: string, record: ListedRecord | undefined): string | null {
    const win = this.winner(key);
    const unknown = this.unknown.get(key) ?? [];
    const describeWinner = win === undefined ? 'no acknowledged write' : `acknowledged winner ${win.op} ${win.hlc} ${win.origin}`;
    if (record === undefined) {
      if (win === undefined || win.op === 'del') return null;
      // An unknown DEL may have happened with a greater stamp.
      if (unknown.some((u) => u.op === 'del')) return null;
      return `absent, but the ${describeWinner} is a PUT`;
    }
    const source = this.putsByHash.get(record.hash);
    if (source === undefined || source.request.key !== key) return `present with hash ${record.hash.slice(0, 12)}… that no PUT of this key sent`;
    if (source.acked !== null) {
      if (win === undefined) return 'impossible: an acknowledged put but no winner';
      if (source.acked !== win) return `holds the acknowledged PUT ${source.acked.hlc} ${source.acked.origin}, but the ${describeWinner}`;
      if (record.hlc !== win.hlc || record.origin !== win.origin) return `holds the winner's content with stamp ${record.hlc} ${record.origin}, acknowledged ${win.hlc} ${win.origin}`;
      return null;
    }
    // The value of a request whose outcome is unknown: it happened, so it must carry its node's stamp and beat
    // every acknowledged op of the key.
    if (record.origin !== source.request.node) return `holds the unknown-outcome PUT sent to ${source.request.node} but with origin ${record.origin}`;
    if (win !== undefined && compareStamps(record, win) <= 0) return `holds an unknown-outcome PUT (${record.hlc} ${record.origin}) that does not beat the ${describeWinner}`;
    return null;
  }

  /**
   * The clock rule: no acknowledged stamp is further ahead of the moment it was acknowledged than
   * FUTURE_STAMP_BOUND_MS, and neither is any record's stamp nor any node's store clock at the end. One
   * far-future stamp accepted from the wire would pin every later write (and the forged key would win every
   * conflict): this is what catches it.
   */
  checkClocks(records: readonly ListedRecord[], storeClocks: readonly { node: string; hlc: string | null }[], now = Date.now()): Violation[] {
    const out: Violation[] = [];
    const bound = BigInt(FUTURE_STAMP_BOUND_MS);
    let pinned = 0;
    for (const [key, list] of this.acked) {
      for (const a of list) {
        const ms = hlcMs(a.hlc);
        if (ms !== null && ms > BigInt(a.ackedAt) + bound && ++pinned <= 10) {
          out.push({ key, problem: `${a.op} on ${a.node} acknowledged at ${a.ackedAt} with stamp ${a.hlc}: ${ms - BigInt(a.ackedAt)} ms ahead of wall clock (clock pinned to the future)` });
        }
      }
    }
    if (pinned > 10) out.push({ key: '', problem: `… ${pinned - 10} more acknowledged stamps ahead of wall clock` });
    for (const r of records) {
      const ms = hlcMs(r.hlc);
      if (ms === null || ms > BigInt(now) + bound) out.push({ key: r.key, problem: `record stamped ${r.hlc} (${r.origin}): ahead of wall clock ${now} or malformed` });
    }
    for (const c of storeClocks) {
      if (c.hlc === null) continue;
      const ms = hlcMs(c.hlc);
      if (ms === null || ms > BigInt(now) + bound) out.push({ key: '', problem: `${c.node}'s store clock is ${c.hlc}: ahead of wall clock ${now} or malformed` });
    }
    return out;
  }

  summary(): string {
    return `${this.ackedPuts} puts and ${this.ackedDeletes} deletes acknowledged, ${this.unknownCount} unknown outcome, ${this.refused} refused (503), ${this.keys().length} keys`;
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
