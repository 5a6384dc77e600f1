/**
 * The server's keys for deriving envd access tokens (see AccessToken, TokenKeyRing): one Secret in
 * the system namespace, made by whichever replica starts first, so every replica derives the same
 * tokens. Every replica watches it, no restart needed: a new `key` signs new tokens while the old
 * one, moved to `previous`, still opens the sandboxes that hold its tokens; removing a key (or the
 * Secret) revokes its tokens on every replica as soon as their watches see it, because a token is
 * checked by recomputing its MAC under the key its id names. After a rotation, connect and detail
 * hand out tokens under the new key; after a delete, a replica makes a new key.
 */

import { randomBytes } from "node:crypto"
import { TrafficAccessToken } from "@agent-sandbox/domain"
import { KubeClient, KubeError, ResourceType, Watcher } from "@agent-sandbox/kube"
import { Context, Effect, Layer, Schedule, Stream } from "effect"
import type { Secret } from "kubernetes-types/core/v1.js"
import * as TokenKeyRing from "./TokenKeyRing.ts"

export interface AccessTokenKeyShape {
  /** The keys in force; undefined between a delete and the new key (then no token is valid). */
  readonly current: () => TokenKeyRing.TokenKeyRing | undefined
}

export class AccessTokenKey extends Context.Tag("@agent-sandbox/server/e2b/AccessTokenKey")<
  AccessTokenKey,
  AccessTokenKeyShape
>() {}

export const secretName = TrafficAccessToken.keySecretName

const keyOf = (secret: Secret): Uint8Array | undefined => {
  const encoded = secret.data?.key
  const key = encoded === undefined ? undefined : Buffer.from(encoded, "base64")
  return key !== undefined && key.length >= 32 ? key : undefined
}

/** Creates the Secret `namespace/name` with a fresh random 32-byte key. */
const createKey = (namespace: string, name: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.create(
      ResourceType.Secret,
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace },
        type: "Opaque",
        data: { key: randomBytes(32).toString("base64") },
      },
      { namespace },
    ),
  )

/**
 * The Secret `namespace/name`, made with a random 32-byte `key` by whichever replica asks first;
 * two replicas starting at once read the winner's.
 */
const sharedSecret = (
  namespace: string,
  name: string,
): Effect.Effect<Secret, KubeError.KubeError, KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const read = client.get(ResourceType.Secret, name, { namespace })
    // Two replicas may start at once: whoever loses the create reads the winner's key.
    const secret = yield* read.pipe(
      Effect.catchIf(KubeError.hasReason("NotFound"), () =>
        createKey(namespace, name).pipe(Effect.catchIf(KubeError.hasReason("AlreadyExists"), () => read)),
      ),
      Effect.retry({
        while: (e) => !KubeError.hasReason("Forbidden", "Unauthorized")(e),
        schedule: Schedule.exponential("200 millis").pipe(Schedule.upTo("30 seconds")),
      }),
    )
    return secret
  })

/** The 32-byte `key` of the shared Secret `namespace/name` (see sharedSecret). */
export const sharedKey = (
  namespace: string,
  name: string,
): Effect.Effect<Uint8Array, KubeError.KubeError | string, KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const secret = yield* sharedSecret(namespace, name)
    const key = keyOf(secret)
    if (key === undefined) {
      return yield* Effect.fail(`Secret ${namespace}/${name} holds no usable 'key' (32 bytes or more)`)
    }
    return key
  })

export const layer = (
  namespace: string,
): Layer.Layer<AccessTokenKey, KubeError.KubeError | string, KubeClient.KubeClient> =>
  Layer.scoped(
    AccessTokenKey,
    Effect.gen(function* () {
      const initial = TokenKeyRing.fromSecretData((yield* sharedSecret(namespace, secretName)).data)
      if (initial === undefined) {
        return yield* Effect.fail(
          `Secret ${namespace}/${secretName} holds no usable 'key' (${TokenKeyRing.minKeyBytes} bytes or more)`,
        )
      }
      let current: TokenKeyRing.TokenKeyRing | undefined = initial
      yield* Watcher.watcherWithBackoff(ResourceType.Secret, {
        namespace,
        fieldSelector: `metadata.name=${secretName}`,
      }).pipe(
        Stream.runForEach((event) => {
          if (event._tag === "Apply" || event._tag === "InitApply") {
            return Effect.sync(() => {
              current = TokenKeyRing.fromSecretData(event.object.data)
            })
          }
          if (event._tag === "Delete") {
            return Effect.zipRight(
              Effect.sync(() => {
                current = undefined
              }),
              // A new key; its Apply event makes it current here and on every other replica.
              Effect.ignore(createKey(namespace, secretName)),
            )
          }
          return Effect.void
        }),
        Effect.forkScoped,
      )
      return { current: () => current }
    }),
  )
