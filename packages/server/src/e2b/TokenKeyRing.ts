/**
 * The envd token keys in force, read from the token key Secret (pure). `key` signs new tokens;
 * entries named `previous` or `previous-<anything>` are still accepted, so a rotation (the old
 * `key` moved to `previous`, a new `key` written) keeps live sandboxes' tokens working until the
 * previous key is removed. Each key is known by an id derived from it, which every token carries,
 * so a check recomputes the HMAC under exactly the key that signed it.
 */
import { createHash } from "node:crypto"

export interface TokenKey {
  readonly id: string
  readonly key: Uint8Array
}

export interface TokenKeyRing {
  /** Signs new tokens (the Secret's `key`). */
  readonly signing: TokenKey
  /** Every key a token may carry the id of: `signing` and the previous keys. */
  readonly accepted: ReadonlyArray<TokenKey>
}

/** Shorter keys are ignored: 32 random bytes are what HMAC-SHA256 wants. */
export const minKeyBytes = 32

/**
 * A key's id: 8 base64url characters of a SHA-256 of it. It names the key without revealing it,
 * needs no bookkeeping in the Secret, and never contains the token's `.` separator.
 */
export const keyId = (key: Uint8Array): string =>
  createHash("sha256").update("agent-sandbox-token-key-id:").update(key).digest("base64url").slice(0, 8)

const decode = (encoded: string | undefined): Uint8Array | undefined => {
  if (encoded === undefined) return undefined
  const key = Buffer.from(encoded, "base64")
  return key.length >= minKeyBytes ? key : undefined
}

const isPrevious = (name: string): boolean => name === "previous" || name.startsWith("previous-")

/** The ring in a Secret's `data` (base64 values); undefined without a usable `key`. */
export const fromSecretData = (
  data: Readonly<Record<string, string>> | undefined,
): TokenKeyRing | undefined => {
  const signingKey = decode(data?.key)
  if (data === undefined || signingKey === undefined) return undefined
  const signing = { id: keyId(signingKey), key: signingKey }
  const previous = Object.entries(data)
    .filter(([name]) => isPrevious(name))
    .flatMap(([, encoded]) => {
      const key = decode(encoded)
      return key === undefined ? [] : [{ id: keyId(key), key }]
    })
    .filter((candidate) => candidate.id !== signing.id)
  return { signing, accepted: [signing, ...previous] }
}

export const byId = (ring: TokenKeyRing, id: string): TokenKey | undefined =>
  ring.accepted.find((candidate) => candidate.id === id)
