// Concurrent random writes through every node's HTTP API: puts and deletes on a shared key space, plus bursts
// that write one hot key on several nodes at the same moment. Each response goes to the oracle: 200 with its
// stamp is acknowledged, 503 not_accepting_writes is a definite refusal, and anything else that may have
// reached the store (timeout, connection reset, 500) has an unknown outcome.
//
// A node's gate can be closed (the fault schedule does, around a daemon kill or a data wipe): no new request
// goes to it, and `drain` waits for its requests in flight to settle.
import { createHash } from 'node:crypto';
import { ZSTD_MAGIC } from '../../../src/cdc/compression.js';
import type { Cluster, ClusterNode } from './cluster.js';
import type { Oracle, WriteRequest } from './oracle.js';
import type { Rng } from './rng.js';

export interface WorkloadOptions {
  workers: number;
  /** Size of the ordinary key space. */
  keys: number;
  /** Keys written on several nodes at once. */
  hotKeys: number;
  deleteRatio: number;
  burstRatio: number;
  /** Pause between a worker's requests, ms (pacing, so 2 cores are not saturated by the workload alone). */
  thinkMs: [number, number];
  requestTimeoutMs: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  workers: 4,
  keys: 150,
  hotKeys: 4,
  deleteRatio: 0.2,
  burstRatio: 0.08,
  thinkMs: [5, 40],
  requestTimeoutMs: 4000,
};

export interface WorkloadStats {
  sent: number;
  acked: number;
  unknown: number;
  refused: number;
  bursts: number;
  /** Answers that should never happen (4xx other than the expected ones): each is a failure. */
  unexpected: string[];
}

export class Workload {
  readonly stats: WorkloadStats = { sent: 0, acked: 0, unknown: 0, refused: 0, bursts: 0, unexpected: [] };
  private readonly open: boolean[];
  private readonly inFlight: number[];
  private readonly idleWaiters: (() => void)[][];
  private gateWaiters: (() => void)[] = [];
  private stopping = false;
  private workers: Promise<void>[] = [];
  private readonly keySpace: string[];
  private readonly hotKeys: string[];
  private counter = 0;
  private readonly fireRng: Rng;
  /** Per node: requests sent, and requests that got an HTTP answer (any status): "served" under HTTP abuse. */
  readonly sentTo: number[];
  readonly answeredBy: number[];

  constructor(
    private readonly cluster: Cluster,
    private readonly oracle: Oracle,
    private readonly rng: Rng,
    private readonly options: WorkloadOptions = DEFAULT_WORKLOAD,
  ) {
    const n = cluster.nodes.length;
    this.open = Array.from({ length: n }, () => true);
    this.inFlight = Array.from({ length: n }, () => 0);
    this.idleWaiters = Array.from({ length: n }, () => []);
    this.sentTo = Array.from({ length: n }, () => 0);
    this.answeredBy = Array.from({ length: n }, () => 0);
    // Mostly plain keys; some with characters that need percent-encoding on the way.
    const odd = ['ü/', 'a b/', 'x%y/', 'emoji😀/', 'dots../', 'slash/a/b/'];
    this.keySpace = Array.from({ length: options.keys }, (_, i) => (i % 10 === 9 ? `${odd[i % odd.length]}${i}` : `k/${i}`));
    this.hotKeys = Array.from({ length: options.hotKeys }, (_, i) => `hot/${i}`);
    this.fireRng = rng.fork('fire');
  }

  start(): void {
    for (let w = 0; w < this.options.workers; w++) this.workers.push(this.worker(w, this.rng.fork(`worker-${w}`)));
  }

  /** Stops issuing requests and waits for every request in flight to settle. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeGateWaiters();
    await Promise.all(this.workers);
  }

  close(node: number): void {
    this.open[node] = false;
  }

  openGate(node: number): void {
    this.open[node] = true;
    this.wakeGateWaiters();
  }

  /**
   * Sends `count` writes to `node` at once and returns without waiting for them: the fault schedule fires
   * these just before it kills the node's daemon or Redis, so some are cut mid-request (unknown outcome).
   */
  fire(node: number, count: number): Promise<void> {
    const target = this.cluster.nodes[node]!;
    const rng = this.fireRng;
    return Promise.all(Array.from({ length: count }, () => {
      const key = rng.chance(0.3) ? rng.pick(this.hotKeys) : rng.pick(this.keySpace);
      return this.send(target, rng.chance(this.options.deleteRatio) ? 'del' : 'put', key, 99, rng);
    })).then(() => undefined);
  }

  /** The i-th ordinary key (a forged far-future DEL targets one). */
  keyAt(i: number): string {
    return this.keySpace[i % this.keySpace.length]!;
  }

  /** Resolves when no request to `node` is in flight. */
  drain(node: number): Promise<void> {
    if (this.inFlight[node] === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters[node]!.push(resolve));
  }

  private openNodes(): ClusterNode[] {
    return this.cluster.nodes.filter((n) => this.open[n.index] && n.daemon !== null);
  }

  private async worker(w: number, rng: Rng): Promise<void> {
    while (!this.stopping) {
      const nodes = this.openNodes();
      if (nodes.length === 0) {
        await new Promise<void>((resolve) => this.gateWaiters.push(resolve));
        continue;
      }
      if (rng.chance(this.options.burstRatio) && nodes.length >= 2) {
        // The same hot key on several nodes at the same moment: a true concurrent conflict.
        this.stats.bursts++;
        const key = rng.pick(this.hotKeys);
        const targets = rng.shuffle(nodes).slice(0, rng.int(2, nodes.length));
        await Promise.all(targets.map((node) => this.send(node, rng.chance(this.options.deleteRatio) ? 'del' : 'put', key, w, rng)));
      } else {
        const key = rng.chance(0.15) ? rng.pick(this.hotKeys) : rng.pick(this.keySpace);
        await this.send(rng.pick(nodes), rng.chance(this.options.deleteRatio) ? 'del' : 'put', key, w, rng);
      }
      const [lo, hi] = this.options.thinkMs;
      await new Promise((resolve) => setTimeout(resolve, rng.int(lo, hi)));
    }
  }

  private body(w: number, rng: Rng): { body: Buffer; contentType: string | undefined } {
    const n = ++this.counter;
    const shape = rng.int(0, 9);
    if (shape <= 5) return { body: Buffer.from(JSON.stringify({ w, n, v: rng.u32() })), contentType: 'application/json' };
    if (shape <= 7) {
      // Large and compressible: travels zstd-compressed.
      const pad = 'abcdefgh'.repeat(rng.int(10, 400));
      return { body: Buffer.from(JSON.stringify({ w, n, pad })), contentType: 'application/json; charset=utf-8' };
    }
    if (shape === 8) {
      // Binary content that itself starts with the zstd magic: must round-trip unchanged.
      return { body: Buffer.concat([ZSTD_MAGIC, Buffer.from(`w${w}n${n}`), Buffer.from(Array.from({ length: rng.int(0, 200) }, () => rng.int(0, 255)))]), contentType: undefined };
    }
    return { body: Buffer.concat([Buffer.from(`w${w}n${n}:`), Buffer.from(Array.from({ length: rng.int(0, 300) }, () => rng.int(0, 255)))]), contentType: 'application/octet-stream' };
  }

  /**
   * One PUT of a given body, recorded like any workload write (the big-record bursts and the HTTP abuse's
   * hostile-but-valid bodies go through here). Resolves with the HTTP status, or null without an answer.
   */
  put(node: ClusterNode, key: string, body: Buffer, contentType: string | undefined, timeoutMs: number, refusal?: RegExp): Promise<number | null> {
    return this.send(node, 'put', key, 0, this.fireRng, { body, contentType, timeoutMs, ...(refusal ? { refusal } : {}) });
  }

  /** `refusal`: a 4xx whose body matches it is a definite refusal (nothing written), not an unexpected answer. */
  private async send(node: ClusterNode, op: 'put' | 'del', key: string, w: number, rng: Rng, given?: { body: Buffer; contentType: string | undefined; timeoutMs: number; refusal?: RegExp }): Promise<number | null> {
    const daemon = node.daemon;
    if (!daemon) return null; // killed meanwhile: nothing sent, nothing to record
    const url = `${daemon.url}/v1/items/${encodeURIComponent(key)}`;
    let request: WriteRequest;
    let init: RequestInit;
    if (op === 'put') {
      const { body, contentType } = given ?? this.body(w, rng);
      request = { op: 'put', key, node: node.id, hash: createHash('sha256').update(body).digest('hex') };
      init = { method: 'PUT', body, headers: contentType ? { 'content-type': contentType } : {} };
    } else {
      request = { op: 'del', key, node: node.id };
      init = { method: 'DELETE' };
    }
    this.stats.sent++;
    this.sentTo[node.index]!++;
    this.inFlight[node.index]!++;
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(given?.timeoutMs ?? this.options.requestTimeoutMs) });
      const text = await res.text();
      this.answeredBy[node.index]!++;
      if (res.status === 200) {
        this.oracle.ack(request, JSON.parse(text) as { hlc: string; origin: string; version?: number; hash?: string; key?: string });
        this.stats.acked++;
      } else if (res.status === 503 && text.includes('not_accepting_writes')) {
        this.oracle.refusedWrite();
        this.stats.refused++;
      } else if (res.status >= 400 && res.status < 500 && given?.refusal?.test(text)) {
        this.oracle.refusedWrite();
        this.stats.refused++;
      } else if (res.status >= 500) {
        // 500: e.g. the local Redis dropped mid-call — the script may or may not have run.
        this.oracle.unknownOutcome(request, `HTTP ${res.status}`);
        this.stats.unknown++;
      } else {
        this.stats.unexpected.push(`${op} ${key} on ${node.id}: HTTP ${res.status} ${text.slice(0, 200)}`);
      }
      return res.status;
    } catch (err) {
      const cause = err instanceof Error ? ((err.cause as { code?: string } | undefined)?.code ?? err.name) : String(err);
      this.oracle.unknownOutcome(request, cause);
      this.stats.unknown++;
      return null;
    } finally {
      if (--this.inFlight[node.index]! === 0) {
        const waiters = this.idleWaiters[node.index]!.splice(0);
        for (const resolve of waiters) resolve();
      }
    }
  }

  private wakeGateWaiters(): void {
    const waiters = this.gateWaiters;
    this.gateWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
