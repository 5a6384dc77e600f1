/**
 * The server's key for deriving envd access tokens (see AccessToken): one Secret in the system
 * namespace, made by whichever replica starts first, so every replica derives the same tokens.
 * Deleting the Secret revokes the tokens of every running sandbox.
 */

import { randomBytes } from "node:crypto"
import { KubeClient, KubeError, ResourceType } from "@agent-sandbox/kube"
import { Context, Effect, Layer, Schedule } from "effect"
import type { Secret } from "kubernetes-types/core/v1.js"

export class AccessTokenKey extends Context.Tag("@agent-sandbox/server/e2b/AccessTokenKey")<
  AccessTokenKey,
  { readonly key: Uint8Array }
>() {}

export const secretName = "agent-sandbox-e2b-token-key"

const keyOf = (secret: Secret): Uint8Array | undefined => {
  const encoded = secret.data?.key
  const key = encoded === undefined ? undefined : Buffer.from(encoded, "base64")
  return key !== undefined && key.length >= 32 ? key : undefined
}

/**
 * The 32-byte key in the Secret `namespace/name`, made (random) by whichever replica asks first;
 * two replicas starting at once read the winner's.
 */
export const sharedKey = (
  namespace: string,
  name: string,
): Effect.Effect<Uint8Array, KubeError.KubeError | string, KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const read = client.get(ResourceType.Secret, name, { namespace })
    const create = client.create(
      ResourceType.Secret,
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace },
        type: "Opaque",
        data: { key: randomBytes(32).toString("base64") },
      },
      { namespace },
    )
    // Two replicas may start at once: whoever loses the create reads the winner's key.
    const secret = yield* read.pipe(
      Effect.catchIf(KubeError.hasReason("NotFound"), () =>
        create.pipe(Effect.catchIf(KubeError.hasReason("AlreadyExists"), () => read)),
      ),
      Effect.retry({
        while: (e) => !KubeError.hasReason("Forbidden", "Unauthorized")(e),
        schedule: Schedule.exponential("200 millis").pipe(Schedule.upTo("30 seconds")),
      }),
    )
    const key = keyOf(secret)
    if (key === undefined) {
      return yield* Effect.fail(`Secret ${namespace}/${name} holds no usable 'key' (32 bytes or more)`)
    }
    return key
  })

export const layer = (
  namespace: string,
): Layer.Layer<AccessTokenKey, KubeError.KubeError | string, KubeClient.KubeClient> =>
  Layer.effect(
    AccessTokenKey,
    Effect.map(sharedKey(namespace, secretName), (key) => ({ key })),
  )
