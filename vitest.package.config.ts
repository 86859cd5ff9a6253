import { defineConfig } from 'vitest/config';

// `npm run test:package`: packs the project as a clean clone would, installs the tarball into an empty
// project (its two native dependencies compile there, which takes minutes) and uses it. Its own step in
// .ci/run rather than part of `npm test`, which it would slow down by that much.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20 * 60_000,
    hookTimeout: 20 * 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
