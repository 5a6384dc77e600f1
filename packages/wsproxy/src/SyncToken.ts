/**
 * The shared sync token: 32 random bytes in `data.key` of one Secret. The hub makes it on first
 * start (SecretKey); an administrator copies that Secret into each member cluster. On the wire it
 * is the bearer token, hex-encoded; the hub compares digests in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { KubeClient, KubeError, ResourceType, SecretKey } from "@agent-sandbox/kube"
import { Effect } from "effect"
import { SyncError } from "./SyncError.ts"

export const hubToken = (namespace: string, name: string) =>
  Effect.map(SecretKey.getOrCreate({ namespace, name }), (key) => Buffer.from(key).toString("hex"))

/** The member's copy; a missing or empty Secret is a typed error (the member cannot authenticate). */
export const memberToken = (namespace: string, name: string) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const secret = yield* client.get(ResourceType.Secret, name, { namespace }).pipe(
      Effect.catchIf(KubeError.hasReason("NotFound"), () =>
        Effect.fail(
          new SyncError({
            reason: "TokenMissing",
            message: `no sync token: copy the hub's Secret ${name} into ${namespace}`,
          }),
        ),
      ),
    )
    const key = secret.data?.key
    if (key === undefined || Buffer.from(key, "base64").length === 0) {
      return yield* new SyncError({
        reason: "TokenMissing",
        message: `Secret ${namespace}/${name} holds no 'key'`,
      })
    }
    return Buffer.from(key, "base64").toString("hex")
  })

const digest = (value: string) => createHash("sha256").update(value).digest()

/** Whether an Authorization header carries the token (constant time in the token's content). */
export const authorizes = (header: string | undefined, token: string): boolean => {
  const presented = header?.startsWith("Bearer ") === true ? header.slice("Bearer ".length).trim() : undefined
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token))
}
