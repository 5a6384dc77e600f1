/**
 * Whether the Pod a terminal token names still serves that sandbox for that tenant: a token
 * minted before a release must not open a shell in the next tenant's recycled Pod. wsproxy reads
 * the Pod's own record (the operator's labels), never the operator.
 */
import { ApiGroup, type TerminalToken } from "@agent-sandbox/domain"
import { KubeClient, KubeError, ResourceType } from "@agent-sandbox/kube"
import { Effect, Option } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"

const label = {
  sandboxId: `${ApiGroup.keyPrefix}sandbox-id`,
  tenant: `${ApiGroup.keyPrefix}tenant`,
} as const

/** Pure: the Pod still carries the token's sandbox and tenant. */
export const serves = (pod: Pod, claims: TerminalToken.TerminalClaims): boolean =>
  pod.metadata?.labels?.[label.sandboxId] === claims.sandboxId &&
  pod.metadata?.labels?.[label.tenant] === claims.tenant &&
  pod.metadata?.deletionTimestamp === undefined

/** None when the sandbox has ended (the Pod is gone or serves another sandbox now). */
export const current = (
  claims: TerminalToken.TerminalClaims,
): Effect.Effect<Option.Option<Pod>, KubeError.KubeError, KubeClient.KubeClient> =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.get(ResourceType.Pod, claims.pod, { namespace: claims.namespace }).pipe(
      Effect.map((pod) => (serves(pod, claims) ? Option.some(pod) : Option.none())),
      Effect.catchIf(KubeError.hasReason("NotFound"), () => Effect.succeedNone),
    ),
  )
