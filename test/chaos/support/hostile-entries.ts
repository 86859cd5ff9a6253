// Raw CDC entries a hostile (or broken) peer can write into its own stream, which every other node tails: the
// stamp classes the wire format allows syntactically but no node may act on (docs/reliability.md, "Hostile
// stamps"). Each PUT names a key no request writes (`poison/…`), so the oracle's "no request ever wrote it"
// rule catches one that was accepted; the forged DEL targets an ordinary key, so accepting it shows up as a
// lost acknowledged write. A far-future stamp that is accepted also moves the reader's clock: the oracle's
// clock rule (acknowledged stamps never ahead of wall clock) catches that.
import { createHash } from 'node:crypto';

export const STAMP_KINDS = ['ms_2p53', 'ms_2p53_plus1', 'ms_max', 'year_2100', 'year_2100_del', 'derived_2100'] as const;
export type StampKind = (typeof STAMP_KINDS)[number];

/** 2100-01-01T00:00:00Z: far beyond any sane skew bound, and still a safe integer. */
export const YEAR_2100_MS = 4_102_444_800_000;

const pad16 = (ms: bigint | number): string => String(ms).padStart(16, '0');

/** The hlc of each kind (null: the entry carries none, its stamp is derived from `updated_at`). */
function hlcOf(kind: StampKind): string | null {
  switch (kind) {
    case 'ms_2p53':
      return `${pad16(2n ** 53n)}-00000`; // the first millisecond a double cannot step past exactly
    case 'ms_2p53_plus1':
      return `${pad16(2n ** 53n + 1n)}-00000`; // rounds down to 2^53 in a double: the next stamp went backwards
    case 'ms_max':
      return '9999999999999999-99999'; // the largest the 16+5 digit format can spell; the next tick overflows it
    case 'year_2100':
    case 'year_2100_del':
      return `${pad16(YEAR_2100_MS)}-00000`;
    case 'derived_2100':
      return null;
  }
}

export function describeStampKind(kind: StampKind): string {
  return kind === 'derived_2100' ? 'PUT without hlc, updated_at 2100 (a Rust peer\'s derived stamp)' : kind === 'year_2100_del' ? `DEL of an ordinary key at ${hlcOf(kind)}` : `PUT at ${hlcOf(kind)}`;
}

/**
 * The stream fields of one hostile entry written into `ownerId`'s stream. `key` is the entry's key: a fresh
 * `poison/…` key for the PUTs, an ordinary workload key for the DEL.
 */
export function hostileStampFields(kind: StampKind, ownerId: string, key: string, n: number): (string | Buffer)[] {
  const now = Date.now();
  const hlc = hlcOf(kind);
  if (kind === 'year_2100_del') {
    return ['op', 'DEL', 'key', key, 'meta', JSON.stringify({ hlc, origin: ownerId, updated_at: now })];
  }
  const content = Buffer.from(JSON.stringify({ hostile_stamp: kind, n }));
  const hash = createHash('sha256').update(content).digest('hex');
  const meta = hlc === null
    ? { content_type: 'json', version: 1, updated_at: YEAR_2100_MS }
    : { content_type: 'json', version: 1, updated_at: now, hlc, origin: ownerId };
  return ['op', 'PUT', 'key', key, 'hash', hash, 'data', content, 'meta', JSON.stringify(meta)];
}
