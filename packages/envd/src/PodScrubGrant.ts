/**
 * What the operator's side hands a node agent to have a recycled Pod's own state cleared (its
 * /dev/shm and SysV IPC objects): which Pod (namespace, name, uid), which container of it by name
 * and by the runtime id the recycle's restart started, until when; signed with HMAC-SHA256 under
 * the key envd grants use (see NodeAgentGrant), so an agent needs no API-server access to decide.
 * Its payload carries `purpose`, which an envd grant lacks, and lacks an envd grant's sandbox and
 * env: neither decodes as the other, so one can never be used for the other's request.
 *
 * Wire form, one header: `base64url(JSON payload) "." base64url(HMAC-SHA256(key, first part))`.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { Either, Schema } from "effect"

export const headerName = "x-agent-sandbox-scrub-grant"

/** Where a node agent takes scrub requests (POST). */
export const path = "/agent/scrub-pod-state"

export class ScrubGrant extends Schema.Class<ScrubGrant>("ScrubGrant")({
  purpose: Schema.Literal("scrub-pod-state"),
  namespace: Schema.String,
  pod: Schema.String,
  podUid: Schema.String,
  container: Schema.String,
  /** The container the recycle's restart started: the agent refuses to act on any other. */
  containerId: Schema.String,
  /** Unix milliseconds after which the grant is refused. */
  expiresAt: Schema.Number,
}) {}

const decodePayload = Schema.decodeUnknownEither(Schema.parseJson(ScrubGrant))

const mac = (key: Uint8Array, payload: string): Buffer => createHmac("sha256", key).update(payload).digest()

export const sign = (key: Uint8Array, grant: ScrubGrant): string => {
  const payload = Buffer.from(JSON.stringify(grant)).toString("base64url")
  return `${payload}.${mac(key, payload).toString("base64url")}`
}

/** Why a grant is refused (none of these reveal the key). */
export type Refusal = "missing" | "malformed" | "bad signature" | "expired"

export const verify = (
  key: Uint8Array,
  token: string | undefined,
  now: number,
): Either.Either<ScrubGrant, Refusal> => {
  if (token === undefined || token === "") return Either.left("missing")
  const dot = token.indexOf(".")
  if (dot <= 0) return Either.left("malformed")
  const payload = token.slice(0, dot)
  const given = Buffer.from(token.slice(dot + 1), "base64url")
  const expected = mac(key, payload)
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return Either.left("bad signature")
  const grant = decodePayload(Buffer.from(payload, "base64url").toString("utf8"))
  if (Either.isLeft(grant)) return Either.left("malformed")
  return grant.right.expiresAt < now ? Either.left("expired") : Either.right(grant.right)
}
