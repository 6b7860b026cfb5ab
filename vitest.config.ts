import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // End-to-end tests start real processes; two workers fit a two-core machine.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
