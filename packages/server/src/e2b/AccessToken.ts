/**
 * The envd access token of a sandbox (`envdAccessToken`, sent back as `X-Access-Token`). It is
 * derived, never stored: HMAC-SHA256 of a random per-sandbox nonce under the server's token key.
 * The Pod keeps the nonce and a SHA-256 of the token, so any replica can check a token and give
 * the token again to its tenant (connect, detail), while the cluster holds nothing that opens
 * the sandbox without the key.
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
