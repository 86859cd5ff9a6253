import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/chaos runs through `npm run chaos` (its own profile), test/package through `npm run test:package`
    // (minutes of native compilation), not in the default suite.
    exclude: ['test/chaos/**', 'test/package/**', 'node_modules/**', 'dist/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: a few files at once, each starting its own redis-servers.
    pool: 'forks',
    maxWorkers: 3,
  },
});
