/** Token keys with ids (pure): which keys a Secret holds, and which tokens they accept. */
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import * as AccessToken from "../src/e2b/AccessToken.ts"
import * as TokenKeyRing from "../src/e2b/TokenKeyRing.ts"

const newKey = () => randomBytes(32)
const b64 = (key: Uint8Array) => Buffer.from(key).toString("base64")

describe("TokenKeyRing", () => {
  it("signs with `key` and accepts `previous` and `previous-*`; ignores short keys and other entries", () => {
    const [current, previous, older] = [newKey(), newKey(), newKey()]
    const ring = TokenKeyRing.fromSecretData({
      key: b64(current),
      previous: b64(previous),
      "previous-2026-01": b64(older),
      "previous-short": b64(randomBytes(16)),
      other: b64(newKey()),
    })!
    expect(ring.signing.id).toBe(TokenKeyRing.keyId(current))
    expect(ring.accepted.map(({ id }) => id)).toEqual(
      [current, previous, older].map((key) => TokenKeyRing.keyId(key)),
    )
    expect(TokenKeyRing.keyId(current)).toMatch(/^[A-Za-z0-9_-]{8}$/)
    expect(TokenKeyRing.fromSecretData({ previous: b64(previous) })).toBeUndefined()
    expect(TokenKeyRing.fromSecretData({ key: b64(randomBytes(31)) })).toBeUndefined()
    expect(TokenKeyRing.fromSecretData(undefined)).toBeUndefined()
    // The same key as current and previous is listed once.
    expect(TokenKeyRing.fromSecretData({ key: b64(current), previous: b64(current) })!.accepted).toHaveLength(
      1,
    )
  })
})

describe("AccessToken with key ids", () => {
  const nonce = AccessToken.newNonce()
  const [oldKey, newKeyBytes] = [newKey(), newKey()]
  const before = TokenKeyRing.fromSecretData({ key: b64(oldKey) })!
  const during = TokenKeyRing.fromSecretData({ key: b64(newKeyBytes), previous: b64(oldKey) })!
  const after = TokenKeyRing.fromSecretData({ key: b64(newKeyBytes) })!

  it("carries the sandbox id and the signing key's id", () => {
    const token = AccessToken.issue(before, "abc123", nonce)
    expect(AccessToken.parse(token)).toEqual({
      sandboxId: "abc123",
      keyId: TokenKeyRing.keyId(oldKey),
      mac: AccessToken.derive(oldKey, nonce),
    })
    expect(AccessToken.parse("a.b")).toBeUndefined()
    expect(AccessToken.parse("a.b.c.d")).toBeUndefined()
    expect(AccessToken.parse(".b.c")).toBeUndefined()
  })

  it("a rotation keeps the old token until its key is removed; the new token works throughout", () => {
    const oldToken = AccessToken.issue(before, "abc123", nonce)
    const newToken = AccessToken.issue(during, "abc123", nonce)
    expect(newToken).not.toBe(oldToken)
    expect(AccessToken.verify(during, "abc123", nonce, oldToken)).toBe(true)
    expect(AccessToken.verify(during, "abc123", nonce, newToken)).toBe(true)
    expect(AccessToken.verify(after, "abc123", nonce, oldToken)).toBe(false)
    expect(AccessToken.verify(after, "abc123", nonce, newToken)).toBe(true)
  })

  it("refuses a token for another sandbox, another nonce, a forged key id or a changed MAC", () => {
    const token = AccessToken.issue(during, "abc123", nonce)
    const { keyId, mac } = AccessToken.parse(token)!
    expect(AccessToken.verify(during, "other", nonce, token)).toBe(false)
    expect(AccessToken.verify(during, "abc123", AccessToken.newNonce(), token)).toBe(false)
    expect(AccessToken.verify(during, "abc123", nonce, `abc123.${TokenKeyRing.keyId(oldKey)}.${mac}`)).toBe(
      false,
    )
    expect(AccessToken.verify(during, "abc123", nonce, `abc123.${keyId}.${mac.slice(1)}A`)).toBe(false)
    expect(AccessToken.verify(during, "abc123", nonce, "")).toBe(false)
  })

  it("accepts a token from before key ids (the bare MAC) under any key in force, until that key goes", () => {
    const legacy = AccessToken.derive(oldKey, nonce)
    expect(AccessToken.isLegacy(legacy)).toBe(true)
    expect(AccessToken.verify(during, "abc123", nonce, legacy)).toBe(true)
    expect(AccessToken.verify(after, "abc123", nonce, legacy)).toBe(false)
  })
})
