/**
 * The wire form the node agents' grants share (NodeAgentGrant, PodScrubGrant): a JSON payload with
 * an expiry, signed with HMAC-SHA256 under the key the server and the agents share, in one header:
 * `base64url(JSON payload) "." base64url(HMAC-SHA256(key, first part))`. Each grant kind brings
 * its own schema, so a payload of one kind never decodes as the other.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { Either } from "effect"

/** Why a grant is refused: said to the caller as it is (none of these reveal the key). */
export type Refusal = "missing" | "malformed" | "bad signature" | "expired"

const mac = (key: Uint8Array, payload: string): Buffer => createHmac("sha256", key).update(payload).digest()

export const sign = (key: Uint8Array, grant: object): string => {
  const payload = Buffer.from(JSON.stringify(grant)).toString("base64url")
  return `${payload}.${mac(key, payload).toString("base64url")}`
}

/** Checks a grant's signature first, then decodes its payload with `decode`, then its expiry. */
export const verifier =
  <A extends { readonly expiresAt: number }>(decode: (json: string) => Either.Either<A, unknown>) =>
  (key: Uint8Array, token: string | undefined, now: number): Either.Either<A, Refusal> => {
    if (token === undefined || token === "") return Either.left("missing")
    const dot = token.indexOf(".")
    if (dot <= 0) return Either.left("malformed")
    const payload = token.slice(0, dot)
    const given = Buffer.from(token.slice(dot + 1), "base64url")
    const expected = mac(key, payload)
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return Either.left("bad signature")
    const grant = decode(Buffer.from(payload, "base64url").toString("utf8"))
    if (Either.isLeft(grant)) return Either.left("malformed")
    return grant.right.expiresAt < now ? Either.left("expired") : Either.right(grant.right)
  }
