import { defineConfig } from 'vitest/config';

// Two tiers (README "Tests"):
//   unit — every */src/**/*.test.ts: no Elasticsearch, no processes to spawn; files run in
//          parallel. `npm run test:unit`.
//   e2e  — test/**/*.test.ts and the */src/**/*.es.test.ts files (adapters checked against
//          a real Elasticsearch): one Elasticsearch for the run (test/global-setup.ts), real
//          agent and collector processes. `npm run test:e2e`.
// `npm test` runs both: the unit tier first (groupOrder), then the e2e tier.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['*/src/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', '*/src/**/*.es.test.ts'],
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts', '*/src/**/*.es.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // End-to-end files share one Elasticsearch and spawn agents and collectors: run files
          // one at a time on our 2-core machines, so timings stay honest.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 240_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
