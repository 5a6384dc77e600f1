/**
 * A random key shared by every process of an installation through one Secret: made by whichever
 * process needs it first, read by the others (the loser of a create race reads the winner's).
 * Deleting the Secret rotates the key for processes started afterwards.
 */
import { randomBytes } from "node:crypto"
import { Effect, Schedule } from "effect"
import type { Secret } from "kubernetes-types/core/v1.js"
import { KubeClient } from "./KubeClient.ts"
import * as KubeError from "./KubeError.ts"
import * as ResourceType from "./ResourceType.ts"

export interface SecretKeyOptions {
  readonly namespace: string
  readonly name: string
  /** Key length in bytes (the shortest key accepted from an existing Secret too); default 32. */
  readonly bytes?: number
}

const keyOf = (secret: Secret, bytes: number): Uint8Array | undefined => {
  const encoded = secret.data?.key
  const key = encoded === undefined ? undefined : Buffer.from(encoded, "base64")
  return key !== undefined && key.length >= bytes ? key : undefined
}

/** The key in `data.key` of the Secret, made first when there is none. */
export const getOrCreate = (
  options: SecretKeyOptions,
): Effect.Effect<Uint8Array, KubeError.KubeError, KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const { namespace, name } = options
    const bytes = options.bytes ?? 32
    const read = client.get(ResourceType.Secret, name, { namespace })
    const create = client.create(
      ResourceType.Secret,
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace },
        type: "Opaque",
        data: { key: randomBytes(bytes).toString("base64") },
      },
      { namespace },
    )
    const secret = yield* read.pipe(
      Effect.catchIf(KubeError.hasReason("NotFound"), () =>
        create.pipe(Effect.catchIf(KubeError.hasReason("AlreadyExists"), () => read)),
      ),
      Effect.retry({
        while: (e) => !KubeError.hasReason("Forbidden", "Unauthorized")(e),
        schedule: Schedule.exponential("200 millis").pipe(Schedule.upTo("30 seconds")),
      }),
    )
    const key = keyOf(secret, bytes)
    if (key === undefined) {
      return yield* new KubeError.KubeError({
        reason: "Invalid",
        status: 0,
        message: `Secret ${namespace}/${name} holds no usable 'key' (${bytes} bytes or more)`,
        operation: `read key Secret ${namespace}/${name}`,
      })
    }
    return key
  })
