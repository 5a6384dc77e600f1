import { configDefaults, defineConfig } from "vitest/config"

// One run covers unit tests and the suites against the local control plane; the global setup
// starts that control plane once (or uses $KUBECONFIG when AGENT_SANDBOX_EXTERNAL_CLUSTER=1).
// Suites named *.realnode.test.ts start a real node (kubelet + containerd + runc) beside the
// KWOK ones; AGENT_SANDBOX_REAL_NODE=off leaves them out on a machine that cannot run one.
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "tools/*/test/**/*.test.ts"],
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.AGENT_SANDBOX_REAL_NODE === "off" ? ["**/*.realnode.test.ts"] : []),
    ],
    globalSetup: ["packages/testing/src/vitestGlobalSetup.ts"],
    // The plain closing line is what CI reads to know tests ran (PlainSummaryReporter.ts).
    reporters: ["default", "./packages/testing/src/PlainSummaryReporter.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
})
