import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['libs/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    // Tests share two cores with onnxruntime thread pools and Redis; running files in
    // parallel oversubscribes the CPU and turns timing-sensitive flows flaky.
    fileParallelism: false,
    testTimeout: 60_000,
    // The default batch store lives under XDG_DATA_HOME: a test that forgets BATCH_STORE_URL
    // (or a process it starts) writes under the temp dir, never into the user's home.
    env: { XDG_DATA_HOME: join(tmpdir(), 'rerank-pool-test-data') },
    hookTimeout: 120_000,
  },
});
