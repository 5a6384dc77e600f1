/**
 * Rotating the envd token key under the JS SDK from npm (unchanged, newest and 2.19.5): a sandbox
 * object holding the old token keeps working while the old key is kept as `previous`, a connect
 * gets a token under the new key, and removing `previous` refuses the old token and only it.
 */
import { randomBytes } from "node:crypto"
import { KubeClient, Patch, ResourceType } from "@agent-sandbox/kube"
import { Eventually, Http } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import * as Newest from "e2b"
import * as Older from "e2b-2-19"
import { Effect, Layer } from "effect"
import type * as JsSdkCases from "./support/JsSdkCases.ts"
import * as SdkServer from "./support/SdkServer.ts"

const sdks: ReadonlyArray<readonly [string, JsSdkCases.E2bSdk]> = [
  ["e2b 2.51.0", Newest],
  ["e2b 2.19.5", Older as unknown as JsSdkCases.E2bSdk],
]

const env = Layer.scopedDiscard(
  Effect.flatMap(SdkServer.SdkServer, (server) =>
    SdkServer.useSdkEnvironment(SdkServer.sdkEnvironment(server, server.keys.tenantA)),
  ),
).pipe(Layer.provideMerge(SdkServer.layer("sdk-rotation", { ...SdkServer.kwokPool, replicas: 1 })))

const secretName = "agent-sandbox-e2b-token-key"

const patchKeys = (namespace: string, data: Record<string, string | null>) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.patch(ResourceType.Secret, secretName, Patch.merge({ data }), { namespace }),
  )

/** What a command through the SDK gives: its stdout, or the error's class when it is refused. */
const run = (sandbox: InstanceType<JsSdkCases.E2bSdk["Sandbox"]>) =>
  Effect.promise(() =>
    sandbox.commands.run("echo alive").then(
      (result) => result.stdout,
      (error: unknown) => (error instanceof Error ? error.constructor.name : String(error)),
    ),
  )

layer(env, { timeout: "300 seconds", excludeTestServices: true })(
  "token key rotation under the JS SDK",
  (it) => {
    for (const [version, sdk] of sdks) {
      it.effect(
        `${version}: old tokens work until the previous key is removed; connect gets the new one`,
        () =>
          Effect.gen(function* () {
            const server = yield* SdkServer.SdkServer
            const client = yield* KubeClient.KubeClient
            const namespace = server.systemNamespace
            const sandbox = yield* Effect.promise(() => sdk.Sandbox.create("base", { timeoutMs: 120_000 }))
            try {
              assert.strictEqual(yield* run(sandbox), "alive\n")
              const first = yield* Http.call(`${server.url}/sandboxes/${sandbox.sandboxId}`, {
                key: server.keys.tenantA,
              })
              const oldToken = first.body.envdAccessToken as string

              const secret = yield* client.get(ResourceType.Secret, secretName, { namespace })
              yield* patchKeys(namespace, {
                key: randomBytes(32).toString("base64"),
                previous: secret.data?.key ?? "",
              })
              // The replica has the new key once detail hands out another token.
              yield* Eventually.eventually(
                Effect.flatMap(
                  Http.call(`${server.url}/sandboxes/${sandbox.sandboxId}`, { key: server.keys.tenantA }),
                  (detail) =>
                    detail.body.envdAccessToken !== oldToken ? Effect.void : Effect.fail("same token"),
                ),
              )
              assert.strictEqual(yield* run(sandbox), "alive\n", "the old token during the overlap")
              const again = yield* Effect.promise(() => sdk.Sandbox.connect(sandbox.sandboxId))
              assert.strictEqual(yield* run(again), "alive\n", "the new token from connect")

              yield* patchKeys(namespace, { previous: null })
              yield* Eventually.eventually(
                Effect.flatMap(run(sandbox), (out) =>
                  out === "alive\n" ? Effect.fail(out) : Effect.succeed(out),
                ),
              )
              assert.strictEqual(yield* run(again), "alive\n", "the new token after the old key is removed")
            } finally {
              yield* Effect.promise(() => sandbox.kill())
            }
          }),
      )
    }
  },
)
