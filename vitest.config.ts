import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', '*/src/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // End-to-end files share one Elasticsearch and spawn agents and collectors: run files
    // one at a time on our 2-core machines, so timings stay honest.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 240_000,
    reporters: ['default'],
  },
});
