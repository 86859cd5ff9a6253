// Fuzzing stream-id arithmetic (the cursor is a stream id; a wrong compare replays or skips a stream) and the
// gap decision built on it.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzzParams, streamId } from './arbitraries.js';
import { checkDetectGap, checkStreamIdOrder, checkStreamIdText } from './properties.js';

const digits = fc.stringMatching(/^[0-9]{1,25}$/);
const idLike = fc.oneof(
  streamId,
  fc.tuple(digits, digits).map(([a, b]) => `${a}-${b}`),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', '-', '0', '0-', '-0', '0-0-0', ' 1-1', '1-1 ', '1-1\n', '+1-1', '1-+1', '0x1-0', '１-１', '18446744073709551615-18446744073709551615', '18446744073709551616-0', '1-18446744073709551616', '00000000000000000000000001-0'),
  streamId.map((id) => `0${id}`),
);

describe('fuzz: stream ids', () => {
  it('any text: parses to a canonical u64 pair or throws StreamIdError, from every helper', () => {
    fc.assert(fc.property(fc.oneof(idLike, fc.anything()), (text) => checkStreamIdText(text)), fuzzParams());
  }, FUZZ_TIMEOUT);

  it('valid ids: total order, successor is the least greater id, lag is non-negative', () => {
    const near = streamId.chain((id) => fc.constantFrom(id));
    fc.assert(fc.property(streamId, fc.oneof(streamId, near), streamId, (a, b, c) => checkStreamIdOrder(a, b, c)), fuzzParams());
  }, FUZZ_TIMEOUT);

  it('gap detection over any well-formed stream metadata never throws', () => {
    const info = fc.option(
      fc.record({
        length: fc.nat({ max: 1000 }),
        lastGeneratedId: streamId,
        maxDeletedId: fc.option(streamId, { nil: null }),
        firstEntryId: fc.option(streamId, { nil: null }),
        entriesAdded: fc.option(fc.nat(), { nil: null }),
      }),
      { nil: null },
    );
    fc.assert(fc.property(streamId, info, (cursor, i) => checkDetectGap(cursor, i)), fuzzParams(0.5));
  }, FUZZ_TIMEOUT);
});
