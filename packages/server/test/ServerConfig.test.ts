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
