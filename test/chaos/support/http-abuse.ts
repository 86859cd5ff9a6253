// Slow and stalled HTTP clients against a daemon's API, and the /health prober that runs through every chaos
// run. The abuse opens raw TCP connections that never finish their headers (slowloris), stall a body just short
// of its announced length, trickle a body a few bytes at a time, connect and say nothing, or ask for a large
// record and never read the answer; meanwhile the workload keeps writing to the same node. The rule: no daemon
// crashes, /health answers every probe, and the abused node keeps answering the workload's requests. Latencies
// are figures, never assertions.
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import type { Cluster, ClusterNode } from './cluster.js';
import type { Rng } from './rng.js';

/** A probe unanswered this long is a failure (not a latency bound: a wedged event loop or a dead listener). */
const PROBE_TIMEOUT_MS = 10_000;
const PROBE_INTERVAL_MS = 250;

export class HealthProbe {
  maxMs = 0;
  probes = 0;
  readonly failures: string[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly cluster: Cluster) {}

  start(): void {
    this.loops = this.cluster.nodes.map((node) => this.loop(node));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async loop(node: ClusterNode): Promise<void> {
    while (!this.stopping) {
      const d = node.daemon;
      if (d && node.alive) {
        const t0 = performance.now();
        try {
          const res = await fetch(`${d.url}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
          await res.text();
          if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
          this.probes++;
          this.maxMs = Math.max(this.maxMs, performance.now() - t0);
        } catch (err) {
          const ms = Math.round(performance.now() - t0);
          // A daemon the suite is killing (or that died, which the suite reports anyway) is no /health failure.
          await sleep(1000);
          if (node.daemon === d && node.alive) this.failures.push(`${node.id}: /health unanswered after ${ms} ms: ${err instanceof Error ? err.message : String(err)}`);
        }
        node.sampleRss();
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }
}

export interface AbusePlan {
  slowHeaders: number;
  stalledBodies: number;
  tricklers: number;
  idle: number;
  slowReaders: number;
}

export function abusePlan(rng: Rng): AbusePlan {
  return { slowHeaders: rng.int(5, 20), stalledBodies: rng.int(5, 20), tricklers: rng.int(2, 8), idle: rng.int(5, 20), slowReaders: rng.int(2, 8) };
}

export interface AbuseResult {
  opened: number;
  /** Connections the daemon closed before the window ended (header/body/idle timeouts, connection bounds). */
  closedByServer: number;
  /** Connections refused or failed at connect. */
  refused: number;
}

/**
 * Opens the plan's connections against `node`'s HTTP API and keeps them going until `until` resolves, then
 * closes whatever is left. `payloadLimit` is the node's max_payload_bytes: stalled bodies announce exactly that.
 */
export async function abuseHttp(node: ClusterNode, plan: AbusePlan, payloadLimit: number, rng: Rng, until: Promise<void>): Promise<AbuseResult> {
  const { hostname, port } = new URL(node.url);
  const sockets: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const result: AbuseResult = { opened: 0, closedByServer: 0, refused: 0 };
  let ending = false;
  const open = (onConnect: (s: net.Socket) => void): void => {
    const s = net.connect({ host: hostname, port: Number(port) });
    sockets.push(s);
    let connected = false;
    s.on('connect', () => {
      connected = true;
      result.opened++;
      onConnect(s);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (ending) return;
      if (connected) result.closedByServer++;
      else result.refused++;
    });
  };
  const every = (ms: number, f: () => void): void => {
    timers.push(setInterval(f, ms));
  };
  // Draws made in timers come from their own generator, so the plan's draws do not depend on timing.
  const filler = rng.fork('filler');
  let n = 0;
  const key = (): string => encodeURIComponent(`abuse/${node.id}/${++n}`);
  for (let i = 0; i < plan.slowHeaders; i++) {
    open((s) => {
      s.write(`PUT /v1/items/${key()} HTTP/1.1\r\nHost: chaos\r\n`);
      every(1000, () => s.writable && s.write(`X-Slow-${filler.int(0, 1e6)}: ${'a'.repeat(filler.int(1, 40))}\r\n`));
    });
  }
  for (let i = 0; i < plan.stalledBodies; i++) {
    const sent = payloadLimit - rng.int(1, 64 * 1024);
    open((s) => {
      // Announces the largest allowed body, sends nearly all of it, then stalls: the daemon holds what it read.
      s.write(`PUT /v1/items/${key()} HTTP/1.1\r\nHost: chaos\r\nContent-Type: application/octet-stream\r\nContent-Length: ${payloadLimit}\r\n\r\n`);
      s.write(Buffer.alloc(sent, 0x61));
    });
  }
  for (let i = 0; i < plan.tricklers; i++) {
    open((s) => {
      s.write(`PUT /v1/items/${key()} HTTP/1.1\r\nHost: chaos\r\nContent-Type: application/json\r\nContent-Length: ${payloadLimit}\r\n\r\n[`);
      every(500, () => s.writable && s.write('[[[[[[[[[[[[[[[['));
    });
  }
  for (let i = 0; i < plan.idle; i++) open(() => undefined);
  for (let i = 0; i < plan.slowReaders; i++) {
    open((s) => {
      // A large record (the big-record bursts write big/…), then never read: the reply sits in the daemon's buffers.
      s.write(`GET /v1/items/${encodeURIComponent(`big/${rng.int(0, 47)}`)} HTTP/1.1\r\nHost: chaos\r\n\r\n`.repeat(4));
      s.pause();
    });
  }
  await until;
  ending = true;
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
  return result;
}

