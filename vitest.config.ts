import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".data/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start their own host processes and nats-servers on fixed port ranges;
    // two cores do not gain from running files in parallel.
    fileParallelism: false,
  },
});
