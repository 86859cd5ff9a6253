import { defineConfig } from 'vitest/config';

// `npm run fuzz`: long fast-check runs over the parsers at the trust boundaries (test/fuzz/*.fuzz.ts).
// FUZZ_RUNS=n cases per property (default 500 000), FUZZ_SEED / FUZZ_PATH replay a reported failure.
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.fuzz.ts'],
    testTimeout: 0,
    pool: 'forks',
    maxWorkers: 2,
  },
});
