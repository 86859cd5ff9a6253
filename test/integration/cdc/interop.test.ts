// The decoder against entries in the Rust sync-engine's exact format (docs/wire-format.md), written to
// and read back from a real redis-server, so the bytes are what XREAD really returns.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCdcEntry, encodeCdcEntry } from '../../../src/cdc/codec.js';
import { sha256Hex } from '../../../src/model/content-hash.js';
import { ZSTD_MAGIC } from '../../../src/cdc/compression.js';
import { streamIdMs } from '../../../src/cdc/stream-id.js';
import type { Change } from '../../../src/model/change.js';
import { formatHlc } from '../../../src/model/hlc.js';
import { useRedis, useRedisClient } from '../../support/use-redis.js';

interface InteropCase {
  fields: [string, string][];
  expect: {
    op: 'PUT' | 'DEL';
    key: string;
    content_hex?: string;
    hash?: string;
    content_type?: 'json' | 'binary';
    version?: number;
    updated_at?: number;
    trace_parent?: string | null;
  };
}

// The cases are the Rust sync-engine's own vectors, vendored in test/fixtures/interop/ so that a clone of
// this repository runs them on its own. To check them against a newer copy of the vectors, point
// RE_INTEROP_VECTORS at it: the vendored file must then equal it, or this file fails until re-copied.
const VENDORED = new URL('../../fixtures/interop/sync-engine-cdc.json', import.meta.url);
const fixtureText = readFileSync(VENDORED, 'utf8');
const fixture = JSON.parse(fixtureText) as { cases: InteropCase[] };
const upstream = process.env.RE_INTEROP_VECTORS;
if (upstream !== undefined && upstream !== '' && readFileSync(upstream, 'utf8') !== fixtureText) {
  throw new Error(`test/fixtures/interop/sync-engine-cdc.json differs from ${upstream} (RE_INTEROP_VECTORS): copy the vectors again`);
}
const PEER = 'rust-peer';

const server = useRedis();
const client = useRedisClient(server);

/** XADDs the fields in the given order and returns the entry as `xreadBuffer` delivers it. */
async function roundTrip(stream: string, fields: (string | Buffer)[]): Promise<[string, Buffer[]]> {
  const id = await client().xadd(stream, '*', ...fields);
  expect(id).not.toBeNull();
  const reply = await client().xreadBuffer('COUNT', 10, 'STREAMS', stream, '0-0');
  const entries = reply?.[0]?.[1] ?? [];
  const entry = entries.find(([entryId]) => entryId.toString() === id);
  expect(entry).toBeDefined();
  return [entry![0].toString(), entry![1]];
}

describe('sync-engine interop', () => {
  it('the fixture has its six cases, including a bare DEL, random binary and zstd frames', () => {
    expect(fixture.cases).toHaveLength(6);
    expect(fixture.cases.some((c) => c.fields.length === 2 && c.expect.op === 'DEL')).toBe(true);
    expect(fixture.cases.filter((c) => c.fields.some(([n, v]) => n === 'data_hex' && v.startsWith('28b52ffd'))).length).toBeGreaterThan(0);
  });

  it.each(fixture.cases.map((c, i) => [`${i}: ${c.expect.op} ${c.expect.key}`, c] as const))(
    'decodes case %s exactly',
    async (_name, testCase) => {
      const stream = `interop:${testCase.expect.key}:${Math.random().toString(36).slice(2)}`;
      const fields = testCase.fields.flatMap(([name, value]) =>
        name === 'data_hex' ? ['data', Buffer.from(value, 'hex')] : [name, value],
      );
      const [id, read] = await roundTrip(stream, fields);
      const decoded = decodeCdcEntry(id, read, { peerNodeId: PEER });
      const want = testCase.expect;

      expect(decoded.id).toBe(id);
      expect(decoded.op).toBe(want.op);
      expect(decoded.key).toBe(want.key);
      expect(decoded.origin).toBe(PEER);
      if (decoded.op === 'PUT') {
        expect(decoded.content.toString('hex')).toBe(want.content_hex);
        expect(decoded.hash).toBe(want.hash);
        expect(decoded.contentType).toBe(want.content_type);
        expect(decoded.version).toBe(want.version);
        expect(decoded.updatedAt).toBe(want.updated_at);
        expect(decoded.traceParent).toBe(want.trace_parent ?? undefined);
        expect(decoded.hlc).toBe(formatHlc(want.updated_at!, 0));
        // Re-emission reuses the exact wire bytes.
        const dataHex = testCase.fields.find(([n]) => n === 'data_hex')![1];
        expect(decoded.wireData?.toString('hex')).toBe(dataHex);
        expect(sha256Hex(decoded.content)).toBe(want.hash);
      } else {
        // A bare Rust DEL takes its time from the entry id.
        expect(decoded.updatedAt).toBe(want.updated_at ?? streamIdMs(id));
        expect(decoded.hlc).toBe(formatHlc(decoded.updatedAt, 0));
      }
    },
  );

  it("this project's own entries survive a real XADD/XREAD unchanged", async () => {
    const stream = `interop:own:${Math.random().toString(36).slice(2)}`;
    const bodies = [Buffer.alloc(0), Buffer.from('{"a":1}'), Buffer.alloc(5000, 0x41), Buffer.concat([ZSTD_MAGIC, Buffer.from([0, 1, 2])])];
    const changes: Change[] = bodies.map((content, i) => ({
      op: 'PUT', key: `own/${i}/é😀`, content, hash: sha256Hex(content), contentType: 'binary', version: i,
      updatedAt: 1735776000000 + i, hlc: formatHlc(1735776000000 + i, i), origin: 'node-a',
      ...(i === 1 ? { traceParent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } : {}),
    }));
    changes.push({ op: 'DEL', key: 'own/gone', updatedAt: 1735776009999, hlc: formatHlc(1735776009999, 7), origin: 'node-a' });
    for (const change of changes) {
      const [id, read] = await roundTrip(stream, encodeCdcEntry(change));
      const decoded = decodeCdcEntry(id, read, { peerNodeId: PEER });
      if (decoded.op === 'PUT') {
        const { wireData, ...rest } = decoded;
        expect(wireData).toBeDefined();
        expect(rest).toEqual({ id, ...change });
      } else {
        expect(decoded).toEqual({ id, ...change });
      }
    }
  });
});
