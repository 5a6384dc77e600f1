/**
 * The envd access token of a sandbox (`envdAccessToken`, sent back as `X-Access-Token`). It is
 * derived, never stored: HMAC-SHA256 of a random per-sandbox nonce under the server's token key.
 * The Pod keeps the nonce (and a SHA-256 of the first token, for the one lookup by token alone),
 * so any replica checks a token by deriving it again with the key in force (`verify`) and gives it
 * again to its tenant (connect, detail), while the cluster holds nothing that opens the sandbox
 * without the key. A new key (AccessTokenKey) therefore revokes every earlier token at once.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"

export const newNonce = (): string => randomBytes(18).toString("base64url")

export const derive = (key: Uint8Array, nonce: string): string =>
  createHmac("sha256", key).update(`envd-access-token:${nonce}`).digest("base64url")

/** Hex SHA-256, as kept on the Pod. */
export const digest = (token: string): string => createHash("sha256").update(token).digest("hex")

/** Constant-time check of a presented token against the kept digest. */
export const matches = (token: string, expectedDigest: string): boolean => {
  const given = Buffer.from(digest(token), "hex")
  const expected = Buffer.from(expectedDigest, "hex")
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Whether `given` is the token of `nonce` under `key`, derived again and compared in constant time. */
export const verify = (key: Uint8Array, nonce: string, given: string): boolean => {
  const expected = Buffer.from(derive(key, nonce))
  const presented = Buffer.from(given)
  return expected.length === presented.length && timingSafeEqual(expected, presented)
}
