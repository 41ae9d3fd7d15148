import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['libs/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    // Tests share two cores with onnxruntime thread pools and Redis; running files in
    // parallel oversubscribes the CPU and turns timing-sensitive flows flaky.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
