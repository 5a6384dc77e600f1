import { defineConfig } from "vitest/config"

// One run covers unit tests and the suites against the local control plane; the global setup
// starts that control plane once (or uses $KUBECONFIG when AGENT_SANDBOX_EXTERNAL_CLUSTER=1).
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "tools/*/test/**/*.test.ts"],
    globalSetup: ["packages/testing/src/vitestGlobalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
})
