import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // the suites start their own worker threads; running files one at a time keeps 2 cores from thrashing
    fileParallelism: false,
  },
});
