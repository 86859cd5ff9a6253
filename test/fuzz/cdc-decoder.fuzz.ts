// Fuzzing the CDC decoder, the trust boundary for everything a peer writes: arbitrary field lists and mutated
// valid entries must decode to a change the store would take, or be rejected with a CdcDecodeError that is not
// the decoder's "unexpected error" safety net. Found inputs go to test/fuzz/corpus/cdc-entries.json.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { encodeCdcEntry } from '../../src/cdc/codec.js';
import { ZSTD_MAGIC } from '../../src/cdc/compression.js';
import { change, fieldMutation, FUZZ_TIMEOUT, fuzzParams, mutateFields, streamId } from './arbitraries.js';
import { checkCdcDecode } from './properties.js';

const options = fc.oneof(
  fc.constant({ peerNodeId: 'peer-a', maxPayloadBytes: 1 << 20 }),
  fc.constant({}),
  fc.record({ peerNodeId: fc.constantFrom('peer-b', 'not a node id', ''), maxPayloadBytes: fc.integer({ min: 1, max: 4096 }) }),
);

const name = fc.constantFrom('op', 'key', 'hash', 'data', 'meta', 'PUT', 'DEL', 'x', '');
const item = fc.oneof(
  name,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.constantFrom('PUT', 'DEL', '{"content_type":"json","version":1,"updated_at":1}', '{"hlc":"0000000000000001-00000","origin":"a"}', Buffer.from(ZSTD_MAGIC)),
);
const junk = fc.oneof(fc.anything(), fc.constant(undefined), fc.integer(), fc.object(), fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 16 }).map((a) => Uint16Array.from(a)));
const anyId = fc.oneof(streamId, fc.string({ maxLength: 30 }), fc.constantFrom('0-0', '-1-0', '1-', '18446744073709551616-0', '1e3-0'), junk);

describe('fuzz: CDC decoder', () => {
  it('arbitrary field lists: a valid change or a CdcDecodeError', () => {
    fc.assert(
      fc.property(anyId, fc.oneof(fc.array(item, { maxLength: 12 }), fc.array(fc.oneof(item, junk), { maxLength: 12 }), junk), options, (id, fields, opts) => {
        checkCdcDecode(id, fields, opts);
      }),
      fuzzParams(),
    );
  }, FUZZ_TIMEOUT);

  it('mutated valid entries: a valid change or a CdcDecodeError', () => {
    fc.assert(
      fc.property(streamId, change, fc.array(fieldMutation, { minLength: 0, maxLength: 4 }), options, (id, original, mutations, opts) => {
        checkCdcDecode(id, mutateFields(encodeCdcEntry(original), mutations), opts);
      }),
      fuzzParams(),
    );
  }, FUZZ_TIMEOUT);
});
