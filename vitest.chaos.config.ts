import { defineConfig } from 'vitest/config';

// `npm run chaos` (scripts/chaos.mjs): the convergence suite, one file at a time, never in parallel with itself.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    // The suite prints its seed, schedule and figures; show them even when it passes.
    silent: false,
  },
});
