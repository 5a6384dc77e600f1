/**
 * The traffic access token of a sandbox: what opens its ports (`<port>-<id>.<domain>`, E2B's
 * `getHost(port)`) through the gateway when its pool keeps them private (`spec.portAccess:
 * Private`). E2B's SDKs hand it out as `sandbox.trafficAccessToken`, and the caller sends it as the
 * header `e2b-traffic-access-token`. Like the envd access token it is derived, never stored:
 * HMAC-SHA256 of the sandbox's per-allocation nonce (the Pod annotation below) under the E2B token
 * key (the Secret `agent-sandbox-e2b-token-key`), with a label of its own, so it opens no envd and
 * the envd token opens no port. Rotating the key revokes both.
 */
import { createHmac, timingSafeEqual } from "node:crypto"

/** The header a private port's caller proves itself with (E2B's name). */
export const header = "e2b-traffic-access-token"

/** The Pod annotation holding the derivation's nonce (written by the E2B API's claim). */
export const nonceAnnotation = "e2b.agent-sandbox.dev/access-token-nonce"

/** The Secret (in the operator's system namespace) holding the key both tokens are derived under. */
export const keySecretName = "agent-sandbox-e2b-token-key"

export const derive = (key: Uint8Array, nonce: string): string =>
  createHmac("sha256", key).update(`traffic-access-token:${nonce}`).digest("base64url")

/** Whether `given` is the token of `nonce` under `key`, compared in constant time. */
export const verify = (key: Uint8Array, nonce: string, given: string): boolean => {
  const expected = Buffer.from(derive(key, nonce))
  const presented = Buffer.from(given)
  return expected.length === presented.length && timingSafeEqual(expected, presented)
}
