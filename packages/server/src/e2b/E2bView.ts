/** How an allocated sandbox Pod looks through the E2B API (pure). */
import { TrafficAccessToken } from "@agent-sandbox/domain"
import type { Sandboxes } from "@agent-sandbox/operator"
import * as AccessToken from "./AccessToken.ts"
import * as E2bAnnotations from "./E2bAnnotations.ts"
import type { E2bSandbox } from "./E2bModels.ts"
import * as SandboxSize from "./SandboxSize.ts"
import * as TemplateRef from "./TemplateRef.ts"
import type * as TokenKeyRing from "./TokenKeyRing.ts"

/** Running as far as E2B is concerned: allocated, not on its way out, and not past its end. */
export const isLive = (sandbox: Sandboxes.SandboxPod, nowMs: number): boolean =>
  sandbox.state === "allocated" &&
  !sandbox.deleting &&
  !sandbox.failed &&
  sandbox.sandboxId !== undefined &&
  (sandbox.expiresAt === undefined || sandbox.expiresAt > nowMs)

/**
 * The sandbox's envd access token, derived again under the signing key (after a rotation: the new
 * token); undefined when it has none (not made through E2B) or no key is in force.
 */
export const accessTokenOf = (
  sandbox: Sandboxes.SandboxPod,
  keys: TokenKeyRing.TokenKeyRing | undefined,
): string | undefined => {
  const record = E2bAnnotations.read(sandbox)
  if (
    keys === undefined ||
    sandbox.sandboxId === undefined ||
    record.accessTokenNonce === undefined ||
    record.accessTokenSha256 === undefined
  ) {
    return undefined
  }
  return AccessToken.issue(keys, sandbox.sandboxId, record.accessTokenNonce)
}

/** Every token of the sandbox a key in force accepts, with the legacy bare MACs (for /files signatures). */
export const acceptedTokensOf = (
  sandbox: Sandboxes.SandboxPod,
  keys: TokenKeyRing.TokenKeyRing | undefined,
): string[] => {
  const nonce = E2bAnnotations.read(sandbox).accessTokenNonce
  if (keys === undefined || sandbox.sandboxId === undefined || nonce === undefined) return []
  return [
    ...AccessToken.acceptedTokens(keys, sandbox.sandboxId, nonce),
    ...keys.accepted.map(({ key }) => AccessToken.derive(key, nonce)),
  ]
}

/**
 * The sandbox's traffic access token (what opens its ports where its pool keeps them private),
 * derived from the same nonce under the key in force; undefined exactly when the envd token is.
 */
export const trafficTokenOf = (
  sandbox: Sandboxes.SandboxPod,
  key: Uint8Array | undefined,
): string | undefined => {
  const record = E2bAnnotations.read(sandbox)
  if (key === undefined || record.accessTokenNonce === undefined || record.accessTokenSha256 === undefined) {
    return undefined
  }
  return TrafficAccessToken.derive(key, record.accessTokenNonce)
}

export interface ViewContext {
  readonly defaultNamespace: string
  readonly domain: string | undefined
  readonly envdVersion: string
  /** The token keys in force (AccessTokenKey.current). */
  readonly tokenKeys: () => TokenKeyRing.TokenKeyRing | undefined
}

export const toE2b = (context: ViewContext, { sandbox, pod }: Sandboxes.AllocatedSandbox): E2bSandbox => ({
  sandboxId: sandbox.sandboxId ?? "",
  templateId: TemplateRef.format(sandbox.namespace, sandbox.pool, context.defaultNamespace),
  alias: sandbox.pool,
  clientId: sandbox.name,
  startedAt: sandbox.allocatedAt ?? 0,
  endAt: sandbox.expiresAt ?? 0,
  size: SandboxSize.of(pod, sandbox.containerName),
  metadata: sandbox.metadata,
  envdVersion: context.envdVersion,
  domain: context.domain ?? null,
  envdAccessToken: accessTokenOf(sandbox, context.tokenKeys()),
  trafficAccessToken: trafficTokenOf(sandbox, context.tokenKeys()?.signing.key),
})
