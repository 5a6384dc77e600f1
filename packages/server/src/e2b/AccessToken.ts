/**
 * The envd access token of a sandbox (`envdAccessToken`, sent back as `X-Access-Token`). It is
 * derived, never stored: `<sandbox id>.<key id>.<HMAC-SHA256 of a random per-sandbox nonce>` under
 * the token key the id names (TokenKeyRing). The Pod keeps the nonce (and a SHA-256 of the first
 * MAC, marking a sandbox made through E2B), so any replica checks a token by recomputing the MAC
 * under the key it names (`verify`) and gives it again to its tenant (connect, detail), while the
 * cluster holds nothing that opens the sandbox without a key. The sandbox id lets a request that
 * names its sandbox by token alone find it without a scan; a key removed from the ring revokes
 * every token it signed.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import * as TokenKeyRing from "./TokenKeyRing.ts"

export const newNonce = (): string => randomBytes(18).toString("base64url")

/** The MAC part: HMAC-SHA256 of the nonce (a token of the format before key ids was this alone). */
export const derive = (key: Uint8Array, nonce: string): string =>
  createHmac("sha256", key).update(`envd-access-token:${nonce}`).digest("base64url")

/** The token of a sandbox under the ring's signing key. */
export const issue = (ring: TokenKeyRing.TokenKeyRing, sandboxId: string, nonce: string): string =>
  `${sandboxId}.${ring.signing.id}.${derive(ring.signing.key, nonce)}`

export interface ParsedToken {
  readonly sandboxId: string
  readonly keyId: string
  readonly mac: string
}

const base64url = /^[A-Za-z0-9_-]+$/

/** The parts of a token of the current format; undefined for anything else (a legacy token too). */
export const parse = (token: string): ParsedToken | undefined => {
  const parts = token.split(".")
  if (parts.length !== 3) return undefined
  const [sandboxId, keyId, mac] = parts as [string, string, string]
  return sandboxId !== "" && base64url.test(keyId) && base64url.test(mac)
    ? { sandboxId, keyId, mac }
    : undefined
}

/** A token from before key ids: the bare MAC (43 base64url characters). */
export const isLegacy = (token: string): boolean => token.length === 43 && base64url.test(token)

/** Hex SHA-256, as kept on the Pod. */
export const digest = (token: string): string => createHash("sha256").update(token).digest("hex")

/** Constant-time check of a presented token against the kept digest. */
export const matches = (token: string, expectedDigest: string): boolean => {
  const given = Buffer.from(digest(token), "hex")
  const expected = Buffer.from(expectedDigest, "hex")
  return given.length === expected.length && timingSafeEqual(given, expected)
}

const equalInConstantTime = (a: string, b: string): boolean => {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/**
 * Whether `given` is the token of sandbox `sandboxId` (nonce `nonce`): the MAC recomputed under the
 * key its id names, if the ring still holds it, and compared in constant time. A legacy bare MAC
 * is checked under each key of the ring.
 */
export const verify = (
  ring: TokenKeyRing.TokenKeyRing,
  sandboxId: string,
  nonce: string,
  given: string,
): boolean => {
  const parsed = parse(given)
  if (parsed === undefined) {
    return isLegacy(given) && ring.accepted.some(({ key }) => equalInConstantTime(derive(key, nonce), given))
  }
  const signedWith = TokenKeyRing.byId(ring, parsed.keyId)
  return (
    parsed.sandboxId === sandboxId &&
    signedWith !== undefined &&
    equalInConstantTime(derive(signedWith.key, nonce), parsed.mac)
  )
}

/** Every token of the sandbox the ring accepts (one per key), for checks that need the token itself. */
export const acceptedTokens = (ring: TokenKeyRing.TokenKeyRing, sandboxId: string, nonce: string): string[] =>
  ring.accepted.map(({ id, key }) => `${sandboxId}.${id}.${derive(key, nonce)}`)
