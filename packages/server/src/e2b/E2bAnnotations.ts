/**
 * What the E2B front end keeps on a sandbox's Pod, written by the allocation's single claim patch
 * under its own key prefix (the operator's own keys are `sandbox.agent-sandbox.dev/…`).
 */
import { TrafficAccessToken } from "@agent-sandbox/domain"
import type { Sandboxes } from "@agent-sandbox/operator"

const prefix = "e2b.agent-sandbox.dev/"

export const Annotation = {
  /** Hex SHA-256 of the envd access token. */
  accessTokenSha256: `${prefix}access-token-sha256`,
  /** Input of the token's derivation (see AccessToken); useless without the server's key. */
  accessTokenNonce: TrafficAccessToken.nonceAnnotation,
  /** JSON object: environment variables of every process the data plane starts. */
  envVars: `${prefix}env-vars`,
  /** Hex SHA-256 of tenant + Idempotency-Key of the create that made the sandbox. */
  idempotencyKeySha256: `${prefix}idempotency-key-sha256`,
} as const

export interface E2bRecord {
  readonly accessTokenSha256: string | undefined
  readonly accessTokenNonce: string | undefined
  readonly envVars: Readonly<Record<string, string>>
  readonly idempotencyKeySha256: string | undefined
}

export const claimAnnotations = (record: {
  readonly accessTokenSha256: string
  readonly accessTokenNonce: string
  readonly envVars: Readonly<Record<string, string>>
  readonly idempotencyKeySha256?: string | undefined
}): Record<string, string> => ({
  [Annotation.accessTokenSha256]: record.accessTokenSha256,
  [Annotation.accessTokenNonce]: record.accessTokenNonce,
  [Annotation.envVars]: JSON.stringify(record.envVars),
  ...(record.idempotencyKeySha256 === undefined
    ? {}
    : { [Annotation.idempotencyKeySha256]: record.idempotencyKeySha256 }),
})

const parseEnvVars = (value: string | undefined): Record<string, string> => {
  if (value === undefined) return {}
  try {
    const parsed: unknown = JSON.parse(value)
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {}
    return Object.fromEntries(
      Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"),
    )
  } catch {
    return {}
  }
}

const hex64 = /^[0-9a-f]{64}$/

export const read = (sandbox: Pick<Sandboxes.SandboxPod, "annotations">): E2bRecord => {
  const annotations = sandbox.annotations
  const tokenDigest = annotations[Annotation.accessTokenSha256]
  const idempotency = annotations[Annotation.idempotencyKeySha256]
  return {
    accessTokenSha256: tokenDigest !== undefined && hex64.test(tokenDigest) ? tokenDigest : undefined,
    accessTokenNonce: annotations[Annotation.accessTokenNonce],
    envVars: parseEnvVars(annotations[Annotation.envVars]),
    idempotencyKeySha256: idempotency !== undefined && hex64.test(idempotency) ? idempotency : undefined,
  }
}
