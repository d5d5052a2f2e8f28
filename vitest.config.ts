import { defineConfig } from 'vitest/config';

// Tests live under test/, mirroring the source tree. `npm test` builds the filter's .wasm and the
// generated protobuf code first (see package.json "pretest"), so suites test the built artifacts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
