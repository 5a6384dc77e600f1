/**
 * envd's signed file URLs (`sandbox.downloadUrl()` / `uploadUrl()` in the SDKs): /files may be
 * called without X-Access-Token when the query carries `signature` (and optionally
 * `signature_expiration`, Unix seconds) made from the sandbox's access token. The server's
 * resolver decides access; this is the check it can use.
 */
import { createHash, timingSafeEqual } from "node:crypto"

export type FileOperation = "read" | "write"

/** "v1_" + base64 (unpadded) SHA-256 of "path:operation:username:token[:expiration]". */
export const fileSignature = (options: {
  readonly path: string
  readonly operation: FileOperation
  /** Empty when the request names no user. */
  readonly username: string
  readonly accessToken: string
  readonly expiration?: number
}): string => {
  const parts = [options.path, options.operation, options.username, options.accessToken]
  if (options.expiration !== undefined) parts.push(String(options.expiration))
  return `v1_${createHash("sha256").update(parts.join(":")).digest("base64").replace(/=+$/, "")}`
}

export type FileAccess = { readonly _tag: "Allowed" } | { readonly _tag: "Denied"; readonly reason: string }

const denied = (reason: string): FileAccess => ({ _tag: "Denied", reason })

/**
 * Whether a /files request may proceed: the right X-Access-Token, or a valid, unexpired
 * signature for its path, user and operation (GET reads, POST writes).
 */
export const checkFileAccess = (request: {
  readonly method: string
  readonly url: URL
  readonly accessTokenHeader: string | undefined
  readonly accessToken: string
  readonly nowSeconds: number
}): FileAccess => {
  if (request.accessTokenHeader !== undefined && request.accessTokenHeader !== "") {
    return request.accessTokenHeader === request.accessToken
      ? { _tag: "Allowed" }
      : denied("access token present in header but does not match")
  }
  const signature = request.url.searchParams.get("signature")
  if (signature === null) return denied("missing signature query parameter")
  const operation: FileOperation | undefined =
    request.method === "GET" || request.method === "HEAD"
      ? "read"
      : request.method === "POST"
        ? "write"
        : undefined
  if (operation === undefined) return denied(`method ${request.method} cannot be signed`)
  const expirationText = request.url.searchParams.get("signature_expiration")
  const expiration = expirationText === null ? undefined : Number(expirationText)
  if (expiration !== undefined && !Number.isSafeInteger(expiration))
    return denied("invalid signature expiration")
  const expected = fileSignature({
    path: request.url.searchParams.get("path") ?? "",
    operation,
    username: request.url.searchParams.get("username") ?? "",
    accessToken: request.accessToken,
    ...(expiration !== undefined ? { expiration } : {}),
  })
  const given = Buffer.from(signature)
  const wanted = Buffer.from(expected)
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return denied("invalid signature")
  if (expiration !== undefined && expiration < request.nowSeconds)
    return denied("signature is already expired")
  return { _tag: "Allowed" }
}
