import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // integration tests bind many sockets; two cores: keep the parallelism modest
    maxWorkers: 2,
  },
});
