// Change builders shared by the tests: a PUT with its content hash filled in, a DEL. Pure: no Redis.
import type { Change, DelChange, PutChange } from '../../src/model/change.js';
import { sha256Hex } from '../../src/model/content-hash.js';
import { formatHlc } from '../../src/model/hlc.js';

/** A PUT stamped `formatHlc(hlcMs, 0)` unless `extra.hlc` says otherwise; `hash` always matches `content`. */
export function putChange(key: string, content: string | Buffer, hlcMs: number, origin: string, extra: Partial<PutChange> = {}): PutChange {
  const buf = typeof content === 'string' ? Buffer.from(content) : content;
  return {
    op: 'PUT', key, content: buf, hash: sha256Hex(buf), contentType: 'binary', version: 1, updatedAt: hlcMs,
    hlc: formatHlc(hlcMs, 0), origin, ...extra,
  };
}

export function delChange(key: string, hlcMs: number, origin: string, logical = 0): DelChange {
  return { op: 'DEL', key, hlc: formatHlc(hlcMs, logical), origin, updatedAt: hlcMs };
}

export type { Change, DelChange, PutChange };
