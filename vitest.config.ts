import { defineConfig } from 'vitest/config';

// Corpus tests run real models in onnxruntime: generous timeouts, files in parallel
// (2 workers: the machines have 2 cores).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
