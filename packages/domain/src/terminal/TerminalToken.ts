/**
 * The terminal token: what the REST API hands a sandbox's tenant so a browser can open one
 * terminal in it through wsproxy. It is `<claims>.<signature>`, both base64url: the claims name
 * the sandbox and the Pod serving it, the tenant and an expiry; the signature is HMAC-SHA256 under
 * a key both sides read from one Secret. wsproxy needs no call back to the API to trust it, and
 * spends each token id once (TerminalTokenLedger), so a token that leaks after use opens nothing.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { Either, Schema } from "effect"

export class TerminalClaims extends Schema.Class<TerminalClaims>("TerminalClaims")({
  /** Random id of this token: spent on first use. */
  id: Schema.String,
  sandboxId: Schema.String,
  tenant: Schema.String,
  namespace: Schema.String,
  pod: Schema.String,
  container: Schema.String,
  /** Milliseconds since the epoch after which the token opens nothing. */
  expiresAt: Schema.Number,
}) {}

/** Why a token opens nothing; each maps to one close reason the page can show. */
export type Rejection =
  | { readonly _tag: "Malformed" }
  | { readonly _tag: "BadSignature" }
  | { readonly _tag: "Expired"; readonly expiredAt: number }

/** A token id: 18 random bytes, as base64url. */
export const newId = (): string => randomBytes(18).toString("base64url")

const signature = (key: Uint8Array, payload: string): Buffer =>
  createHmac("sha256", key).update(`terminal-token:${payload}`).digest()

const encodeClaims = Schema.encodeSync(Schema.parseJson(TerminalClaims))
const decodeClaims = Schema.decodeUnknownEither(Schema.parseJson(TerminalClaims))

export const sign = (key: Uint8Array, claims: TerminalClaims): string => {
  const payload = Buffer.from(encodeClaims(claims)).toString("base64url")
  return `${payload}.${signature(key, payload).toString("base64url")}`
}

/** Checks signature (in constant time) and expiry; single use is the ledger's job. */
export const verify = (
  key: Uint8Array,
  token: string,
  now: number,
): Either.Either<TerminalClaims, Rejection> => {
  const parts = token.split(".")
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") return Either.left({ _tag: "Malformed" })
  const [payload, given] = parts as [string, string]
  const expected = signature(key, payload)
  const presented = Buffer.from(given, "base64url")
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    return Either.left({ _tag: "BadSignature" })
  }
  const claims = decodeClaims(Buffer.from(payload, "base64url").toString("utf8"))
  if (Either.isLeft(claims)) return Either.left({ _tag: "Malformed" })
  if (claims.right.expiresAt <= now)
    return Either.left({ _tag: "Expired", expiredAt: claims.right.expiresAt })
  return Either.right(claims.right)
}

export const describe = (rejection: Rejection): string => {
  switch (rejection._tag) {
    case "Malformed":
      return "the terminal token is malformed"
    case "BadSignature":
      return "the terminal token was not issued by this installation"
    case "Expired":
      return "the terminal token has expired: ask the API for a new one"
  }
}

/** The Secret (in the system namespace) holding the key both the API and wsproxy sign with. */
export const keySecretName = "agent-sandbox-terminal-token-key"

/** Where wsproxy serves a sandbox's terminal. */
export const terminalPath = (sandboxId: string): string =>
  `/ws/sandboxes/${encodeURIComponent(sandboxId)}/terminal`
