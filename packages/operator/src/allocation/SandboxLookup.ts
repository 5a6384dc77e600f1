import { ClusterUnavailable, SandboxNotFound } from "@agent-sandbox/domain"
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

/** Two of the pools' own Pods carry the id: which one is the caller's cannot be told, so neither is. */
export const ambiguous = (sandboxId: string): ClusterUnavailable =>
  new ClusterUnavailable({
    message: `sandbox ${sandboxId} is ambiguous: more than one Pod carries its id; none is used until that is resolved`,
  })

export interface SandboxLookupOptions {
  /** API-server lists for cache misses in flight at once on this replica (more wait their turn). */
  readonly apiLookups: number
}

export const defaultApiLookups = 4

/**
 * Finds sandboxes by id: the cache first; on a miss, the API server (a label-selected list), since
 * another replica's claim may not have reached this replica's watch yet, and a caller behind a load
 * balancer must not see its fresh sandbox as missing. Only ids of the minted form go to the API
 * server, at most `apiLookups` at once; its failure is ClusterUnavailable (503), never "not found":
 * a DELETE must not say a sandbox is gone while it lives. Only Pods their pool owns count
 * (ClusterState.isPoolsOwn), from the cache and from the API server alike.
 */
export const make = (
  cluster: ClusterStateShape,
  client: KubeClient.KubeClientShape,
  options: SandboxLookupOptions = { apiLookups: defaultApiLookups },
) => {
  const permits = Effect.unsafeMakeSemaphore(Math.max(1, options.apiLookups))

  const fromApiServer = (sandboxId: string): Effect.Effect<Option.Option<Pod>, ClusterUnavailable> =>
    client
      .list(ResourceType.Pod, {
        namespace: cluster.namespace,
        labelSelector: `${SandboxPod.Label.sandboxId}=${sandboxId}`,
      })
      .pipe(
        permits.withPermits(1),
        Effect.mapError(
          (e) =>
            new ClusterUnavailable({
              message: `sandbox ${sandboxId} could not be looked up: the Kubernetes API answered ${e.reason}`,
            }),
        ),
        Effect.flatMap((list) => {
          const owned = list.items.filter(cluster.isPoolsOwn)
          return owned.length > 1
            ? Effect.fail(ambiguous(sandboxId))
            : Effect.succeed(Option.fromNullable(owned[0]).pipe(Option.map(CachedPod.project)))
        }),
      )

  /** The sandbox and the Pod holding it, any tenant's. */
  const lookup = (
    sandboxId: string,
  ): Effect.Effect<Option.Option<readonly [SandboxPod.SandboxPod, Pod]>, ClusterUnavailable> =>
    Effect.flatMap(cluster.podOfSandbox(sandboxId), (cached) =>
      Effect.map(
        cached === "Ended"
          ? Effect.succeed(Option.none<Pod>())
          : cached === "Ambiguous"
            ? Effect.fail(ambiguous(sandboxId))
            : Option.isSome(cached) || !SandboxId.isMinted(sandboxId)
              ? Effect.succeed(cached)
              : fromApiServer(sandboxId),
        Option.flatMap((pod) => {
          // A Pod being deleted holds no live sandbox: a release into a full pool deletes it, and
          // the watch's deleting version outlives this replica's memory of that end.
          if (pod.metadata?.deletionTimestamp != null) return Option.none()
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

  /**
   * The Pod read fresh from the API server still holds the sandbox, on the same Pod (uid), owned by
   * its pool and not being deleted: what the data plane checks before acting in it.
   */
  const confirm = (
    sandbox: SandboxPod.SandboxPod,
    pod: Pod,
  ): Effect.Effect<readonly [SandboxPod.SandboxPod, Pod], SandboxNotFound | ClusterUnavailable> => {
    const sandboxId = sandbox.sandboxId ?? ""
    return client.get(ResourceType.Pod, sandbox.name, { namespace: sandbox.namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchIf(
        (e) => e.reason === "NotFound",
        () => Effect.succeed(Option.none<Pod>()),
      ),
      // The API server's own message goes to the log, never to the tenant.
      Effect.catchAll((e) =>
        Effect.zipRight(
          Effect.logWarning("Kubernetes API failure answered as ClusterUnavailable", e.reason, e.message),
          Effect.fail(
            new ClusterUnavailable({
              message: `sandbox ${sandboxId} could not be checked: the Kubernetes API answered ${e.reason}`,
            }),
          ),
        ),
      ),
      Effect.flatMap((fresh) => {
        const now = Option.flatMap(fresh, (p) => Option.fromNullable(SandboxChange.held(p)))
        // A Pod being deleted (a release ends it so) no longer holds its sandbox, labels or not.
        return Option.isSome(fresh) &&
          fresh.value.metadata?.deletionTimestamp == null &&
          Option.isSome(now) &&
          now.value.sandboxId === sandboxId &&
          now.value.uid === (pod.metadata?.uid ?? sandbox.uid) &&
          cluster.isPoolsOwn(fresh.value)
          ? Effect.succeed([now.value, CachedPod.project(fresh.value)] as const)
          : Effect.fail(notFound(sandboxId))
      }),
    )
  }

  return { lookup, find, confirm }
}
