import { SandboxNotFound } from "@agent-sandbox/domain"
import { type KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Effect, Option } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import type { ClusterStateShape } from "../cluster/ClusterState.ts"
import * as CachedPod from "../sandbox/CachedPod.ts"
import * as SandboxChange from "../sandbox/SandboxChange.ts"
import * as SandboxId from "../sandbox/SandboxId.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as Caller from "./Caller.ts"

export const notFound = (sandboxId: string): SandboxNotFound =>
  new SandboxNotFound({ sandboxId, message: `sandbox ${sandboxId} not found` })

/**
 * Finds sandboxes by id: the cache first; on a miss, the API server (a label-selected list), since
 * another replica's claim may not have reached this replica's watch yet, and a caller behind a load
 * balancer must not see its fresh sandbox as missing.
 */
export const make = (cluster: ClusterStateShape, client: KubeClient.KubeClientShape) => {
  const fromApiServer = (sandboxId: string) =>
    client
      .list(ResourceType.Pod, {
        namespace: cluster.namespace,
        labelSelector: `${SandboxPod.Label.sandboxId}=${sandboxId}`,
      })
      .pipe(
        Effect.map((list) => Option.fromNullable(list.items[0]).pipe(Option.map(CachedPod.project))),
        Effect.orElseSucceed(() => Option.none<Pod>()),
      )

  /** The sandbox and the Pod holding it, any tenant's. */
  const lookup = (sandboxId: string): Effect.Effect<Option.Option<readonly [SandboxPod.SandboxPod, Pod]>> =>
    Effect.flatMap(cluster.podOfSandbox(sandboxId), (cached) =>
      Effect.map(
        cached === "Ended"
          ? Effect.succeed(Option.none<Pod>())
          : Option.isSome(cached) || !SandboxId.isWellFormed(sandboxId)
            ? Effect.succeed(cached)
            : fromApiServer(sandboxId),
        Option.flatMap((pod) => {
          const sandbox = SandboxChange.held(pod)
          return sandbox?.sandboxId === sandboxId ? Option.some([sandbox, pod] as const) : Option.none()
        }),
      ),
    )

  /** The caller's sandbox, or SandboxNotFound (also for another tenant's). */
  const find = (caller: Caller.Caller, sandboxId: string) =>
    Effect.flatMap(lookup(sandboxId), (found) =>
      Option.isSome(found) && Caller.canSee(caller, found.value[0])
        ? Effect.succeed(found.value)
        : Effect.fail(notFound(sandboxId)),
    )

  return { lookup, find }
}
