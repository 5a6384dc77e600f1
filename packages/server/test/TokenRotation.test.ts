/**
 * Envd access tokens carry the id of the key that signed them and are checked by recomputing
 * their MAC under that key, on every request. Rotating the token key Secret (new `key`, old one
 * kept as `previous`) keeps live tokens working while connect hands out new ones; removing the
 * previous key revokes the old tokens on the replica through its watch (as on every other), with
 * no restart. Against the local control plane.
 */
import { randomBytes } from "node:crypto"
import { KubeClient, Patch, ResourceType } from "@agent-sandbox/kube"
import { Eventually, Http, TestCluster } from "@agent-sandbox/testing"
import { E2bOperator } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as AccessToken from "../src/e2b/AccessToken.ts"
import * as TokenKeyRing from "../src/e2b/TokenKeyRing.ts"

class Env extends Context.Tag("TokenRotationEnv")<Env, E2bOperator.E2bOperator>() {}

const env = Layer.scoped(Env, E2bOperator.start({ prefix: "rotation", pool: { replicas: 1 } })).pipe(
  Layer.provideMerge(TestCluster.layer),
)

const secretName = "agent-sandbox-e2b-token-key"

/** An envd call (the process list: no exec needed) with a token, and the sandbox id header unless omitted. */
const envdStatus = (url: string, sandboxId: string | undefined, token: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/process.Process/List`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "connect-protocol-version": "1",
        ...(sandboxId === undefined ? {} : { "e2b-sandbox-id": sandboxId }),
        "x-access-token": token,
      },
      body: "{}",
    })
    await response.text()
    return response.status
  })

const expectStatus = (status: Effect.Effect<number>, wanted: number) =>
  Eventually.eventually(Effect.flatMap(status, (got) => (got === wanted ? Effect.void : Effect.fail(got))))

layer(env, { timeout: "120 seconds", excludeTestServices: true })("envd token rotation", (it) => {
  it.effect("a rotation keeps old tokens until the previous key is removed; then only new ones open", () =>
    Effect.gen(function* () {
      const { url, keys, systemNamespace } = yield* Env
      const client = yield* KubeClient.KubeClient
      const { sandboxID, envdAccessToken: oldToken } = yield* E2bOperator.createSandbox(url, keys.tenantA)
      const secret = yield* client.get(ResourceType.Secret, secretName, { namespace: systemNamespace })
      const oldKey = secret.data?.key ?? ""
      // The token names its sandbox and the key that signed it.
      assert.deepStrictEqual(
        { sandboxId: AccessToken.parse(oldToken)?.sandboxId, keyId: AccessToken.parse(oldToken)?.keyId },
        { sandboxId: sandboxID, keyId: TokenKeyRing.keyId(Buffer.from(oldKey, "base64")) },
      )
      assert.strictEqual(yield* envdStatus(url, sandboxID, oldToken), 200)

      // Rotate: a new key signs, the old one stays as `previous`.
      const newKey = randomBytes(32)
      yield* client.patch(
        ResourceType.Secret,
        secretName,
        Patch.merge({ data: { key: newKey.toString("base64"), previous: oldKey } }),
        { namespace: systemNamespace },
      )
      const connect = Http.call(`${url}/v2/sandboxes/${sandboxID}/connect`, {
        method: "POST",
        key: keys.tenantA,
        body: { timeout: 60 },
      })
      // Once the replica's watch has the new key, connect hands out a token signed with it.
      const newToken = yield* Eventually.eventually(
        Effect.flatMap(connect, (connected) =>
          AccessToken.parse(connected.body.envdAccessToken)?.keyId === TokenKeyRing.keyId(newKey)
            ? Effect.succeed(connected.body.envdAccessToken as string)
            : Effect.fail(connected.status),
        ),
      )
      assert.notStrictEqual(newToken, oldToken)
      // Both open the sandbox during the overlap, named by header or by the token alone (the
      // Python SDK 2.20 sends no sandbox id after connect).
      assert.strictEqual(yield* envdStatus(url, sandboxID, oldToken), 200)
      assert.strictEqual(yield* envdStatus(url, sandboxID, newToken), 200)
      assert.strictEqual(yield* envdStatus(url, undefined, oldToken), 200)
      assert.strictEqual(yield* envdStatus(url, undefined, newToken), 200)

      // Removing the previous key revokes the old token; the new one keeps working.
      yield* client.patch(ResourceType.Secret, secretName, Patch.merge({ data: { previous: null } }), {
        namespace: systemNamespace,
      })
      yield* expectStatus(envdStatus(url, sandboxID, oldToken), 401)
      assert.strictEqual(yield* envdStatus(url, undefined, oldToken), 401)
      assert.strictEqual(yield* envdStatus(url, sandboxID, newToken), 200)
      assert.strictEqual(yield* envdStatus(url, undefined, newToken), 200)

      // A key replaced outright (no previous) revokes at once, and connect gives the next token.
      yield* client.patch(
        ResourceType.Secret,
        secretName,
        Patch.merge({ data: { key: randomBytes(32).toString("base64") } }),
        { namespace: systemNamespace },
      )
      yield* expectStatus(envdStatus(url, sandboxID, newToken), 401)
      const third = yield* connect
      assert.strictEqual(third.status, 200, JSON.stringify(third.body))
      assert.strictEqual(yield* envdStatus(url, undefined, third.body.envdAccessToken), 200)
      yield* Http.call(`${url}/sandboxes/${sandboxID}`, { method: "DELETE", key: keys.tenantA })
    }),
  )

  it.effect("a token naming another sandbox, or a key id not in the Secret, opens nothing", () =>
    Effect.gen(function* () {
      const { url, keys } = yield* Env
      const create = E2bOperator.createSandbox(url, keys.tenantA)
      const [one, two] = [yield* create, yield* create]
      const token = AccessToken.parse(one.envdAccessToken)!
      // One's MAC relabelled as two's: two's nonce gives another MAC.
      const relabelled = `${two.sandboxID}.${token.keyId}.${token.mac}`
      assert.strictEqual(yield* envdStatus(url, undefined, relabelled), 401)
      assert.strictEqual(yield* envdStatus(url, two.sandboxID, one.envdAccessToken), 401)
      const unknownKey = `${one.sandboxID}.AAAAAAAA.${token.mac}`
      assert.strictEqual(yield* envdStatus(url, undefined, unknownKey), 401)
      for (const created of [one, two]) {
        yield* Http.call(`${url}/sandboxes/${created.sandboxID}`, {
          method: "DELETE",
          key: keys.tenantA,
        })
      }
    }),
  )
})
