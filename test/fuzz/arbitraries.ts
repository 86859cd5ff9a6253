// Generators for the fuzz targets: valid inputs (so mutations land close to the accepted space, where bugs
// live) and the mutations themselves. Plus the run parameters: FUZZ_RUNS cases per property (default 500 000),
// FUZZ_SEED to replay a failure fast-check reported.
import fc from 'fast-check';
import { formatStreamId } from '../../src/cdc/stream-id.js';
import { sha256Hex } from '../../src/model/content-hash.js';
import { ZSTD_MAGIC } from '../../src/cdc/compression.js';
import type { Change, PutChange } from '../../src/model/change.js';
import { formatHlc, HLC_MAX_LOGICAL } from '../../src/model/hlc.js';
import { MAX_KEY_BYTES } from '../../src/model/key.js';
import { TRACE_PARENT_PATTERN, isTraceParent } from '../../src/model/trace-parent.js';

export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 500_000);

export function fuzzParams(share = 1): fc.Parameters<unknown> {
  const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
  const path = process.env.FUZZ_PATH;
  return {
    numRuns: Math.max(1, Math.round(FUZZ_RUNS * share)),
    ...(seed === undefined ? {} : { seed }),
    ...(path === undefined ? {} : { path }),
    // The time goes into new cases, not into shrinking a failure for minutes.
    endOnFailure: true,
    verbose: 1,
  };
}

/** Fuzz tests run for minutes: no per-test timeout. */
export const FUZZ_TIMEOUT = 0;

// ── CDC ─────────────────────────────────────────────────────────────────────────────────────────────────

export const key = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }),
    fc.constantFrom('😀'.repeat(256), 'é'.repeat(512), 'a'.repeat(1024), 'k', '..', '/', ' '),
  )
  .filter((k) => k.isWellFormed() && Buffer.byteLength(k) <= MAX_KEY_BYTES);

const bytes = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));

export const content = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  bytes(120),
  bytes(40).map((b) => Buffer.concat([ZSTD_MAGIC, b])),
  fc.tuple(bytes(8), fc.integer({ min: 1, max: 300 })).map(([unit, n]) => Buffer.alloc(Math.max(1, unit.length * n), unit.length ? unit : Buffer.from([0x61]))),
);

const hlc = fc.tuple(fc.integer({ min: 0, max: 2e12 }), fc.integer({ min: 0, max: HLC_MAX_LOGICAL })).map(([p, l]) => formatHlc(p, l));
const origin = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}$/);
const traceParent = fc.option(fc.stringMatching(TRACE_PARENT_PATTERN).filter(isTraceParent), { nil: undefined });
const safeNat = fc.oneof(fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 9n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: (1n << 64n) - 3n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 1_700_000_000_000n, max: 1_900_000_000_000n }));
export const streamIdParts = fc.record({ ms: u64, seq: u64 });
export const streamId = streamIdParts.map(formatStreamId);

export const putChange: fc.Arbitrary<PutChange> = fc
  .record({ key, content, contentType: fc.constantFrom('json' as const, 'binary' as const), version: safeNat, updatedAt: safeNat, hlc, origin, traceParent })
  .map(({ traceParent: tp, ...rest }) => ({ op: 'PUT' as const, ...rest, hash: sha256Hex(rest.content), ...(tp === undefined ? {} : { traceParent: tp }) }));
const delChange = fc.record({ op: fc.constant('DEL' as const), key, updatedAt: safeNat, hlc, origin });
export const change: fc.Arbitrary<Change> = fc.oneof(putChange, delChange);

/** Field-level mutations of an encoded entry (a list of Buffers, names and values alternating). */
export type FieldMutation =
  | { kind: 'flip'; field: number; at: number; bit: number }
  | { kind: 'truncate'; field: number; keep: number }
  | { kind: 'drop'; field: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'append'; field: number; extra: Uint8Array }
  | { kind: 'replace'; field: number; value: Buffer }
  | { kind: 'duplicate'; field: number };

/** Values worth planting in a field: other fields' syntax, stamps without their pair, JSON edge cases. */
const plant = fc.oneof(
  fc.constantFrom(
    'PUT', 'DEL', 'put', '', 'null', '{}', '[]', '"x"', '1e309', '{"hlc":null,"origin":null}',
    '{"content_type":"json","version":1,"updated_at":1}',
    '{"content_type":"json","version":-1,"updated_at":1}',
    '{"content_type":"json","version":1.5,"updated_at":1}',
    '{"content_type":"text","version":1,"updated_at":1}',
    '{"content_type":"json","version":1,"updated_at":9007199254740993}',
    '{"hlc":"0000000000000001-00000"}', '{"origin":"a"}', '{"hlc":"0000000000000001-00000","origin":"a b"}',
    '{"updated_at":18446744073709551616}', '{"trace_parent":"00-00000000000000000000000000000000-0000000000000000-00"}',
    '{"__proto__":{"hlc":"0000000000000001-00000"}}',
  ).map((s) => Buffer.from(s)),
  fc.constant(Buffer.from(ZSTD_MAGIC)),
  fc.constant(Buffer.from([0xff, 0xfe])),
  fc.constant(Buffer.from('\uFEFF{}')),
  bytes(16).map((b) => Buffer.concat([ZSTD_MAGIC, b])),
  fc.string({ maxLength: 64 }).map((s) => Buffer.from(s)),
);

export const fieldMutation: fc.Arbitrary<FieldMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), field: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), field: fc.nat(), keep: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), field: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), field: fc.nat(), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('replace' as const), field: fc.nat(), value: plant }),
  fc.record({ kind: fc.constant('duplicate' as const), field: fc.nat() }),
);

export function mutateFields(fields: readonly Buffer[], mutations: readonly FieldMutation[]): Buffer[] {
  const list: Buffer[] = fields.map((b) => Buffer.from(b));
  for (const m of mutations) {
    if (list.length === 0) break;
    const at = (n: number): number => n % list.length;
    switch (m.kind) {
      case 'flip': {
        const buf = list[at(m.field)]!;
        if (buf.length > 0) buf[m.at % buf.length]! ^= 1 << m.bit;
        break;
      }
      case 'truncate': {
        const i = at(m.field);
        list[i] = list[i]!.subarray(0, m.keep % (list[i]!.length + 1));
        break;
      }
      case 'drop':
        list.splice(at(m.field), 1);
        break;
      case 'swap': {
        const a = at(m.a);
        const b = at(m.b);
        [list[a], list[b]] = [list[b]!, list[a]!];
        break;
      }
      case 'append': {
        const i = at(m.field);
        list[i] = Buffer.concat([list[i]!, Buffer.from(m.extra)]);
        break;
      }
      case 'replace':
        list[at(m.field)] = m.value;
        break;
      case 'duplicate': {
        // A second name/value pair (the decoder keeps the first occurrence).
        const i = at(m.field) & ~1;
        if (i + 1 < list.length) list.push(list[i]!, list[i + 1]!);
        break;
      }
    }
  }
  return list;
}

// ── configuration ───────────────────────────────────────────────────────────────────────────────────────

const nodeId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,12}$/);
const durationText = fc.oneof(
  fc.integer({ min: 0, max: 1e7 }),
  fc.tuple(fc.integer({ min: 0, max: 1e6 }), fc.constantFrom('ms', 's', 'm', 'h', 'd')).map(([n, u]) => `${n}${u}`),
);

/** A valid configuration object (what is under `replication:`), optional sections randomly present. */
export const validConfigObject = fc
  .record({
    local_node_id: nodeId,
    peerIds: fc.uniqueArray(nodeId, { maxLength: 3 }),
    prefix: fc.stringMatching(/^[A-Za-z0-9:_{}-]{0,8}$/),
    http: fc.record({ listen: fc.constantFrom('127.0.0.1:8790', '[::1]:0', 'localhost:1'), enabled: fc.boolean() }, { requiredKeys: [] }),
    store: fc.record(
      { max_payload_bytes: fc.integer({ min: 1, max: 1 << 29 }), cdc_maxlen: fc.integer({ min: 1, max: 1e7 }), tombstone_ttl: fc.constantFrom('7d', '1s', 86_400_000), memory_threshold: fc.double({ min: 0.01, max: 1, noNaN: true }) },
      { requiredKeys: [] },
    ),
    settings: fc.record(
      {
        hot_path: fc.record({ block_timeout: fc.constantFrom('5s', '10ms', 60_000), batch_size: fc.integer({ min: 50, max: 1000 }), adaptive_batch_size: fc.boolean() }, { requiredKeys: [] }),
        cold_path: fc.record({ interval_sec: fc.double({ min: 0.01, max: 1e5, noNaN: true }), backoff_base_sec: fc.constant(1), backoff_max_sec: fc.constant(10) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    logging: fc.record({ level: fc.constantFrom('info', 'debug', 'silent') }, { requiredKeys: [] }),
    cursor: fc.record({ sqlite_path: fc.string({ minLength: 1, maxLength: 20 }), wal_mode: fc.boolean() }, { requiredKeys: [] }),
  }, { requiredKeys: ['local_node_id', 'peerIds', 'prefix'] })
  .map(({ peerIds, prefix, ...rest }) => ({
    ...rest,
    local: { redis_url: 'redis://127.0.0.1:6380', redis_prefix: prefix },
    peers: peerIds.filter((id) => id !== rest.local_node_id).map((node_id, i) => ({ node_id, redis_url: `redis://127.0.0.1:${7000 + i}` })),
  }));

/** Values to plant anywhere in a config tree: wrong types, edge numbers, durations, env references, prototypes. */
export const plantedValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, undefined, true, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 1e308, -0, '', ' ', '0', '5s', '-5s', '1.5s', '99999999999999999999d',
    'redis://x', 'rediss://127.0.0.1:1', 'redis://[::1]:70000', 'redis://user:pa ss@h:1/99', '${X}', '${', '$${X}', '${X:-}', '__proto__',
    [], {}, [[]], { __proto__: null }, new Date(0), Buffer.from('x'),
  ),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  durationText,
  fc.jsonValue({ maxDepth: 2 }),
);

export const plantedKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'peers', 'local', 'replication', 'node_id', '0', 'length'),
  fc.string({ maxLength: 12 }),
);

export type TreeMutation =
  | { kind: 'set'; pick: number; value: unknown }
  | { kind: 'delete'; pick: number }
  | { kind: 'add'; pick: number; key: string; value: unknown }
  | { kind: 'wrap'; pick: number };

export const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: plantedValue }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: plantedKey, value: plantedValue }),
  fc.record({ kind: fc.constant('wrap' as const), pick: fc.nat() }),
);

type Path = (string | number)[];

function pathsIn(node: unknown, at: Path = []): Path[] {
  if (Array.isArray(node)) return [at, ...node.flatMap((child, i) => pathsIn(child, [...at, i]))];
  if (node !== null && typeof node === 'object' && !(node instanceof Date) && !Buffer.isBuffer(node)) {
    return [at, ...Object.entries(node).flatMap(([k, child]) => pathsIn(child, [...at, k]))];
  }
  return [at];
}

/**
 * A deep copy that keeps what the fuzzer plants on purpose: null prototypes, `__proto__` as an own key,
 * Buffers and Dates. Planted values are copied because plantedValue's constants (`[]`, `{}`, …) are single
 * instances shared by every case: mutating them in place once filled `[]` with itself across cases, a cycle
 * that overflowed the stack (the long fuzz run found it).
 */
function cloneValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneValue);
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof Date) return new Date(value.getTime());
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(copy, k, { value: cloneValue(v), enumerable: true, writable: true, configurable: true });
    return copy;
  }
  return value;
}

/** Applies tree mutations to a deep copy (own properties defined, never assigned: `__proto__` stays a key). */
export function mutateTree(tree: unknown, mutations: readonly TreeMutation[]): unknown {
  let root: unknown = cloneValue(tree);
  const define = (obj: object, k: string | number, value: unknown): void => {
    Object.defineProperty(obj, k, { value, enumerable: true, writable: true, configurable: true });
  };
  for (const m of mutations) {
    const paths = pathsIn(root);
    const path = paths[m.pick % paths.length]!;
    const parent = path.length === 0 ? null : (path.slice(0, -1).reduce<unknown>((n, k) => (n as Record<string | number, unknown>)[k], root) as Record<string | number, unknown>);
    const last = path[path.length - 1];
    const target = path.length === 0 ? root : parent![last!];
    switch (m.kind) {
      case 'set':
        if (parent === null) root = cloneValue(m.value);
        else define(parent, last!, cloneValue(m.value));
        break;
      case 'delete':
        if (parent !== null) {
          if (Array.isArray(parent)) parent.splice(Number(last), 1);
          else delete parent[last!];
        }
        break;
      case 'add':
        if (target !== null && typeof target === 'object' && !Array.isArray(target)) define(target, m.key, cloneValue(m.value));
        else if (Array.isArray(target)) target.push(cloneValue(m.value));
        break;
      case 'wrap':
        if (parent === null) root = [root];
        else define(parent, last!, [target]);
        break;
    }
  }
  return root;
}

/** Text-level mutations of a YAML document. */
export type TextMutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicateLine'; line: number }
  | { kind: 'swapLines'; a: number; b: number }
  | { kind: 'indent'; line: number; by: number }
  /** An anchor on one mapping line and an alias to it on another: sometimes inside its own node (a cycle). */
  | { kind: 'alias'; a: number; b: number };

const yamlSyntax = fc.constantFrom(
  ':', ': ', '-', '- ', '[', ']', '{', '}', '&a ', '*a', '!!str ', '!!binary ', '!!timestamp ', '|', '>', "'", '"', '%YAML 1.2\n', '---\n', '...\n', '@', '`', '#', ',',
  '?', '? ', '\n', '\t', '  ', '${X}', '${', '<<: *a', '!', '!!map ', '0x1F', '.inf', '~', 'null', 'yes', '1e1000', '\u0000', '\uFEFF', '\r\n',
);

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(yamlSyntax, fc.string({ maxLength: 6 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('duplicateLine' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ kind: fc.constant('alias' as const), a: fc.nat(), b: fc.nat() }),
);

export function mutateText(text: string, mutations: readonly TextMutation[]): string {
  let out = text;
  for (const m of mutations) {
    const lines = out.split('\n');
    switch (m.kind) {
      case 'insert': {
        const at = m.at % (out.length + 1);
        out = out.slice(0, at) + m.text + out.slice(at);
        break;
      }
      case 'delete': {
        const at = m.at % (out.length + 1);
        out = out.slice(0, at) + out.slice(at + m.length);
        break;
      }
      case 'duplicateLine': {
        const i = m.line % lines.length;
        lines.splice(i, 0, lines[i]!);
        out = lines.join('\n');
        break;
      }
      case 'swapLines': {
        const a = m.a % lines.length;
        const b = m.b % lines.length;
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        out = lines.join('\n');
        break;
      }
      case 'indent': {
        const i = m.line % lines.length;
        lines[i] = m.by >= 0 ? ' '.repeat(m.by) + lines[i]! : lines[i]!.replace(new RegExp(`^ {0,${-m.by}}`), '');
        out = lines.join('\n');
        break;
      }
      case 'alias': {
        const a = m.a % lines.length;
        const b = m.b % lines.length;
        const value = /^(\s*(?:- )?[^:#\s][^:#]*:)\s*\S.*$/.exec(lines[b]!);
        if (/:\s*$/.test(lines[a]!)) lines[a] = `${lines[a]!.replace(/\s*$/, '')} &z`;
        if (value) lines[b] = `${value[1]} *z`;
        out = lines.join('\n');
        break;
      }
    }
  }
  return out;
}

export const envArb = fc.dictionary(fc.constantFrom('X', 'REDIS_PASSWORD', 'HOME', 'A_B', 'x'), fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', '${X}', '"', ': a', '\n- b')), { maxKeys: 4 });
