/**
 * Envd access tokens are checked by deriving them again with the key in force, on every request:
 * replacing the token key Secret revokes every earlier token on the replica (through its watch,
 * as on every other), and connect then hands out the new token. Against the local control plane.
 */
import { randomBytes } from "node:crypto"
import { KubeClient, Patch, ResourceType } from "@agent-sandbox/kube"
import { Eventually, Http, TestCluster } from "@agent-sandbox/testing"
import { E2bOperator } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"

class Env extends Context.Tag("TokenRotationEnv")<Env, E2bOperator.E2bOperator>() {}

const env = Layer.scoped(Env, E2bOperator.start({ prefix: "rotation", pool: { replicas: 1 } })).pipe(
  Layer.provideMerge(TestCluster.layer),
)

/** An envd call (the process list: no exec needed) with the sandbox's token. */
const envdStatus = (url: string, sandboxId: string, token: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/process.Process/List`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "connect-protocol-version": "1",
        "e2b-sandbox-id": sandboxId,
        "x-access-token": token,
      },
      body: "{}",
    })
    await response.text()
    return response.status
  })

layer(env, { timeout: "120 seconds", excludeTestServices: true })("envd token rotation", (it) => {
  it.effect("rotating the token key Secret revokes the old token; connect gives the new one", () =>
    Effect.gen(function* () {
      const { url, keys, systemNamespace } = yield* Env
      const created = yield* Http.call(`${url}/v2/sandboxes`, {
        method: "POST",
        key: keys.tenantA,
        body: { templateID: "base" },
      })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      const { sandboxID, envdAccessToken: oldToken } = created.body
      assert.strictEqual(yield* envdStatus(url, sandboxID, oldToken), 200)

      const client = yield* KubeClient.KubeClient
      yield* client.patch(
        ResourceType.Secret,
        "agent-sandbox-e2b-token-key",
        Patch.merge({ data: { key: randomBytes(32).toString("base64") } }),
        { namespace: systemNamespace },
      )
      // The replica's watch sees the new key; from then on the old token opens nothing.
      yield* Eventually.eventually(
        Effect.flatMap(envdStatus(url, sandboxID, oldToken), (status) =>
          status === 401 ? Effect.void : Effect.fail(status),
        ),
      )
      const connected = yield* Http.call(`${url}/v2/sandboxes/${sandboxID}/connect`, {
        method: "POST",
        key: keys.tenantA,
        body: { timeout: 60 },
      })
      assert.strictEqual(connected.status, 200, JSON.stringify(connected.body))
      const newToken = connected.body.envdAccessToken
      assert.notStrictEqual(newToken, oldToken)
      assert.strictEqual(yield* envdStatus(url, sandboxID, newToken), 200)
      yield* Http.call(`${url}/sandboxes/${sandboxID}`, { method: "DELETE", key: keys.tenantA })
    }),
  )
})
