/**
 * Messages between a bench (parent) and bench/engine-child.ts, which runs one
 * ReplicationEngine in its own process so that the process's RSS is the engine's alone (B5).
 */

export interface ChildPeer {
  nodeId: string;
  url: string;
  prefix: string;
}

export interface ChildStart {
  type: 'start';
  nodeId: string;
  localUrl: string;
  localPrefix: string;
  peers: ChildPeer[];
  /** Merged into `settings` of the engine's configuration. */
  settings: Record<string, unknown>;
  store?: Record<string, unknown>;
  cursorPath: string;
  /** B1: report `reached` once the cursor of `peerId` is persisted at (or past) `head`. */
  until?: { peerId: string; head: string };
  /** B2: record `now - updatedAt` of every change the store reports as applied. */
  recordLag?: boolean;
  /** Only changes whose key starts with this are recorded (e.g. to leave out a warm-up). */
  lagKeyPrefix?: string;
}

export interface ChildStop {
  type: 'stop';
}

export type ParentMessage = ChildStart | ChildStop;

export interface ChildCounters {
  eventsRead: number;
  eventsApplied: number;
  deduped: number;
  rejected: number;
  batches: number;
}

export type ChildMessage =
  /** Modules loaded, nothing started: the process's baseline RSS. */
  | { type: 'ready'; rssKb: number }
  | { type: 'started' }
  /** The cursor reached the target: ms from just before `engine.start()` to the cursor write. */
  | { type: 'reached'; elapsedMs: number }
  | {
    type: 'stopped';
    /** Peak RSS of the process over its whole life (VmHWM; see peakRssKb in engine-child.ts), KiB. */
    maxRssKb: number;
    /** Peak RSS seen by 50 ms sampling while the engine ran, KiB (a cross-check of maxRssKb). */
    sampledPeakRssKb: number;
    lagsMs?: number[];
    counters: ChildCounters;
    /** applyChanges calls, time inside them, and time between one returning and the next starting (ms). */
    applies: { calls: number; busyMs: number; gapMs: number };
    /** CPU time of the whole engine process (user + system), ms. */
    cpuMs: number;
  }
  | { type: 'error'; message: string };
