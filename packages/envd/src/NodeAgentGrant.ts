/**
 * What the E2B data plane hands a node agent with each request it forwards: which sandbox the
 * request may reach (its Pod by namespace, name and uid, its container by name and by the id the
 * server confirmed, its env) until when,
 * signed with HMAC-SHA256 under a key the server and the agents share. The agent serves only what
 * a valid, unexpired grant names, so it needs no API-server access to decide, and nothing the
 * caller sends can widen it (the access token was checked by the server before it signed).
 *
 * Wire form, one header: `base64url(JSON payload) "." base64url(HMAC-SHA256(key, first part))`.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { Either, Schema } from "effect"
import type { SandboxTarget } from "./SandboxTarget.ts"

export const headerName = "x-agent-sandbox-grant"

export class Grant extends Schema.Class<Grant>("Grant")({
  sandboxId: Schema.String,
  namespace: Schema.String,
  pod: Schema.String,
  podUid: Schema.String,
  container: Schema.String,
  /** The container's runtime id as the server last confirmed it: the agent refuses any other. */
  containerId: Schema.String,
  envs: Schema.Record({ key: Schema.String, value: Schema.String }),
  /** Unix milliseconds after which the grant is refused. */
  expiresAt: Schema.Number,
}) {}

const decodePayload = Schema.decodeUnknownEither(Schema.parseJson(Grant))

const mac = (key: Uint8Array, payload: string): Buffer => createHmac("sha256", key).update(payload).digest()

export const sign = (key: Uint8Array, grant: Grant): string => {
  const payload = Buffer.from(JSON.stringify(grant)).toString("base64url")
  return `${payload}.${mac(key, payload).toString("base64url")}`
}

/** Why a grant is refused: said to the caller as it is (none of these reveal the key). */
export type Refusal = "missing" | "malformed" | "bad signature" | "expired"

export const verify = (
  key: Uint8Array,
  token: string | undefined,
  now: number,
): Either.Either<Grant, Refusal> => {
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

/** Where the granted request's commands run. */
export const targetOf = (grant: Grant): SandboxTarget => ({
  namespace: grant.namespace,
  pod: grant.pod,
  podUid: grant.podUid,
  container: grant.container,
  containerId: grant.containerId,
  envs: grant.envs,
})
