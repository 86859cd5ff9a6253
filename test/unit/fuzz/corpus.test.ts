// Replays the fuzzing regression corpus (test/fuzz/corpus/*.json) through the same contract checks the fuzz
// targets run (test/fuzz/properties.ts): inputs that once broke a parser, plus hand-picked nasty ones, stay
// fixed in every `npm test`. Where an entry states its expected outcome, that is checked too.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCdcEntry } from '../../../src/cdc/codec.js';
import { CdcDecodeError } from '../../../src/cdc/decode-error.js';
import { isStreamId } from '../../../src/cdc/stream-id.js';
import type { Env } from '../../../src/config/env.js';
import {
  checkCdcDecode, checkConfigObject, checkConfigText, checkHttpParser, checkStreamIdOrder, checkStreamIdText, type HttpParser,
} from '../../fuzz/properties.js';

function corpus<T>(name: string): T[] {
  return JSON.parse(readFileSync(new URL(`../../fuzz/corpus/${name}`, import.meta.url), 'utf8')) as T[];
}

type Field = { utf8: string } | { hex: string } | { json: unknown };

function field(f: Field): unknown {
  if ('utf8' in f) return Buffer.from(f.utf8, 'utf8');
  if ('hex' in f) return Buffer.from(f.hex, 'hex');
  return f.json;
}

interface CdcCase {
  note: string;
  id: string | Field;
  fields: Field[] | Field;
  options?: { peerNodeId?: string; maxPayloadBytes?: number };
  /** 'accept', a reject reason, or absent (either, as long as the contract holds). */
  expect?: string;
}

describe('fuzz corpus: CDC decoder', () => {
  for (const c of corpus<CdcCase>('cdc-entries.json')) {
    it(c.note, () => {
      const id = typeof c.id === 'string' ? c.id : field(c.id);
      const fields = Array.isArray(c.fields) ? c.fields.map(field) : field(c.fields);
      checkCdcDecode(id, fields, c.options ?? { peerNodeId: 'peer-a' });
      if (c.expect === undefined) return;
      let outcome = 'accept';
      try {
        decodeCdcEntry(id as string, fields as Buffer[], c.options ?? { peerNodeId: 'peer-a' });
      } catch (err) {
        outcome = err instanceof CdcDecodeError ? err.reason : `not a CdcDecodeError: ${String(err)}`;
      }
      expect(outcome).toBe(c.expect);
    });
  }
});

describe('fuzz corpus: stream ids', () => {
  for (const c of corpus<{ note: string; value: unknown; expect: 'valid' | 'invalid' }>('stream-ids.json')) {
    it(c.note, () => {
      checkStreamIdText(c.value);
      expect(isStreamId(c.value as string)).toBe(c.expect === 'valid');
    });
  }
  for (const c of corpus<{ note: string; a: string; b: string; c: string }>('stream-id-orders.json')) {
    it(c.note, () => {
      for (const [a, b, d] of [[c.a, c.b, c.c], [c.b, c.a, c.c], [c.c, c.b, c.a], [c.a, c.c, c.b]] as const) checkStreamIdOrder(a, b, d);
    });
  }
});

describe('fuzz corpus: configuration', () => {
  for (const c of corpus<{ note: string; input: unknown }>('config-objects.json')) {
    it(`object: ${c.note}`, () => checkConfigObject(c.input));
  }
  for (const c of corpus<{ note: string; text: string; env?: Env }>('config-texts.json')) {
    it(`text: ${c.note}`, () => checkConfigText(c.text, c.env ?? {}));
  }
});

describe('fuzz corpus: HTTP request parsing', () => {
  for (const c of corpus<{ note: string; parser: HttpParser; input: string }>('http.json')) {
    it(`${c.parser}: ${c.note}`, () => checkHttpParser(c.parser, c.input));
  }
});
