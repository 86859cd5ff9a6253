// Fuzzing configuration parsing: a daemon and a reload read operators' files, so any object and any text must
// give a configuration or a ConfigError listing issues — never another exception.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { stringify } from 'yaml';
import { envArb, FUZZ_TIMEOUT, fuzzParams, mutateText, mutateTree, plantedValue, textMutation, treeMutation, validConfigObject } from './arbitraries.js';
import { checkConfigObject, checkConfigText } from './properties.js';

describe('fuzz: configuration', () => {
  it('objects (mutated valid configurations and anything): a configuration or a ConfigError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 4, arbitrary: fc.tuple(validConfigObject, fc.array(treeMutation, { maxLength: 4 })).map(([c, m]) => mutateTree(c, m)) },
          { weight: 1, arbitrary: fc.oneof(fc.anything(), plantedValue) },
        ),
        (input) => checkConfigObject(input),
      ),
      fuzzParams(),
    );
  }, FUZZ_TIMEOUT);

  it('YAML text (mutated valid files and arbitrary text), with any environment: a configuration or a ConfigError', () => {
    const text = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(validConfigObject, fc.array(textMutation, { maxLength: 5 })).map(([c, m]) => mutateText(stringify({ replication: c }), m)) },
      { weight: 1, arbitrary: fc.tuple(validConfigObject, fc.array(treeMutation, { maxLength: 3 })).map(([c, m]) => { try { return stringify({ replication: mutateTree(c, m) }); } catch { return ''; } }) },
      { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
    );
    fc.assert(fc.property(text, envArb, (t, env) => checkConfigText(t, env)), fuzzParams());
  }, FUZZ_TIMEOUT);
});
