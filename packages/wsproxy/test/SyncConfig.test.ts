import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer } from "effect"
import { layerFromEnv, SyncConfig } from "../src/SyncConfig.ts"

const read = (env: Record<string, string>) =>
  Effect.provide(
    SyncConfig,
    layerFromEnv.pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))),
    ),
  )

describe("sync configuration", () => {
  it.effect("is off by default, with safe limits", () =>
    Effect.gen(function* () {
      const config = yield* read({})
      assert.strictEqual(config.mode, "off")
      assert.strictEqual(config.port, 9004)
      assert.strictEqual(config.tokenSecret, "agent-sandbox-sync-token")
      assert.deepStrictEqual(config.poolNamespaces, [])
      assert.isTrue(Duration.equals(config.maxBackoff, Duration.seconds(30)))
    }),
  )

  it.effect("a member names its hub; namespaces are a comma-separated list", () =>
    Effect.gen(function* () {
      const config = yield* read({
        AGENT_SANDBOX_SYNC_MODE: "member",
        AGENT_SANDBOX_SYNC_HUB_URL: "http://hub.example:9004/",
        AGENT_SANDBOX_SYNC_NAMESPACES: "a, b,,",
      })
      assert.strictEqual(config.hubUrl, "http://hub.example:9004")
      assert.deepStrictEqual(config.poolNamespaces, ["a", "b"])
    }),
  )

  it.effect("refuses a member without a hub, an unknown mode and a zero limit, naming the variable", () =>
    Effect.gen(function* () {
      const noHub = yield* Effect.flip(read({ AGENT_SANDBOX_SYNC_MODE: "member" }))
      assert.include(String(noHub), "AGENT_SANDBOX_SYNC_HUB_URL")
      const mode = yield* Effect.flip(read({ AGENT_SANDBOX_SYNC_MODE: "leader" }))
      assert.include(String(mode), "AGENT_SANDBOX_SYNC_MODE")
      const zero = yield* Effect.flip(read({ AGENT_SANDBOX_SYNC_MAX_CHANGES: "0" }))
      assert.include(String(zero), "AGENT_SANDBOX_SYNC_MAX_CHANGES")
    }),
  )
})
