import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { ServerConfig } from "../src/index.ts"

const read = (env: Record<string, string>) =>
  Effect.provide(
    ServerConfig.ServerConfig,
    ServerConfig.layerFromEnv.pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))),
    ),
  )

describe("ServerConfig from the environment", () => {
  it.effect("metrics are recorded and served on :8082 unless turned off", () =>
    Effect.gen(function* () {
      const defaults = yield* read({})
      assert.strictEqual(defaults.recordMetrics, true)
      assert.strictEqual(defaults.metricsPort, 8082)
      const off = yield* read({ AGENT_SANDBOX_METRICS: "off", AGENT_SANDBOX_METRICS_PORT: "9000" })
      assert.strictEqual(off.recordMetrics, false)
      assert.isUndefined(off.metricsPort)
      const portOnly = yield* read({ AGENT_SANDBOX_METRICS_PORT: "0" })
      assert.strictEqual(portOnly.recordMetrics, true)
      assert.isUndefined(portOnly.metricsPort)
    }),
  )

  it.effect("AGENT_SANDBOX_METRICS takes on or off, nothing else", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(read({ AGENT_SANDBOX_METRICS: "no" }))
      assert.include(String(error), "AGENT_SANDBOX_METRICS")
    }),
  )
})

describe("ServerConfig: the node agents' scrub timeout (the chart's nodeAgent.scrubSeconds)", () => {
  it.effect(
    "AGENT_SANDBOX_NODE_AGENT_SCRUB_SECONDS reaches the operator's node-agent settings, 30 by default",
    () =>
      Effect.gen(function* () {
        const defaults = yield* read({ AGENT_SANDBOX_NODE_AGENTS: "true" })
        assert.strictEqual(defaults.e2b?.nodeAgents?.scrubSeconds, 30)
        const set = yield* read({
          AGENT_SANDBOX_NODE_AGENTS: "true",
          AGENT_SANDBOX_NODE_AGENT_SCRUB_SECONDS: "45",
        })
        assert.strictEqual(set.e2b?.nodeAgents?.scrubSeconds, 45)
        const error = yield* Effect.flip(
          read({ AGENT_SANDBOX_NODE_AGENTS: "true", AGENT_SANDBOX_NODE_AGENT_SCRUB_SECONDS: "0" }),
        )
        assert.include(String(error), "AGENT_SANDBOX_NODE_AGENT_SCRUB_SECONDS")
      }),
  )
})
