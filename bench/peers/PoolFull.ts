/**
 * When a warm pool is full again, by its own status (what its controller observed), seen through a
 * watch on the pool object: the same yardstick for both systems, and no polling load on the API
 * server while the refill is measured.
 */
import type { SandboxPool } from "@agent-sandbox/domain"
import { KubeClient, type KubeObject, type ResourceType } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { Duration, Effect, Option, Stream } from "effect"
import * as Peer from "./PeerResources.ts"

/** Waits until `full(pool)` holds; fails with a reason after `timeout`. */
export const awaitPool = <T extends KubeObject.KubeObject>(
  type: ResourceType.ResourceType<T>,
  namespace: string,
  name: string,
  full: (pool: T) => boolean,
  timeout: Duration.DurationInput,
): Effect.Effect<void, string, KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const fieldSelector = `metadata.name=${name}`
    const listed = yield* Effect.mapError(
      client.list(type, { namespace, fieldSelector }),
      (e) => `list ${type.plural}: ${e.reason}`,
    )
    const first = listed.items[0]
    if (first !== undefined && full(first)) return
    let last: T | undefined = first
    const found = yield* client
      .watch(type, { namespace, fieldSelector, resourceVersion: listed.resourceVersion })
      .pipe(
        Stream.filterMap((event) =>
          event.type === "ADDED" || event.type === "MODIFIED" ? Option.some(event.object) : Option.none(),
        ),
        Stream.tap((pool) => Effect.sync(() => (last = pool))),
        Stream.filter(full),
        Stream.runHead,
        Effect.mapError((e) => `watch ${type.plural}: ${e.reason}`),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            `${type.kind} ${namespace}/${name} not full within ${Duration.format(timeout)}: status ${JSON.stringify((last as { status?: unknown } | undefined)?.status ?? {})}`,
        }),
      )
    // A watch the server ended before the pool was full: look again.
    if (Option.isNone(found)) return yield* awaitPool(type, namespace, name, full, timeout)
  })

/** Ours: the pool's status counts `replicas` idle Ready Pods and nothing starting. */
export const ourPoolFull = (replicas: number) => (pool: SandboxPool) =>
  (pool.status?.idleReplicas ?? 0) >= replicas && (pool.status?.startingReplicas ?? 0) === 0

export const awaitOurPool = (
  namespace: string,
  name: string,
  replicas: number,
  timeout: Duration.DurationInput,
) => awaitPool(SandboxResources.SandboxPoolResource, namespace, name, ourPoolFull(replicas), timeout)

export const awaitPeerPool = (
  namespace: string,
  name: string,
  replicas: number,
  timeout: Duration.DurationInput,
) =>
  awaitPool(
    Peer.SandboxWarmPoolResource,
    namespace,
    name,
    (pool) => Peer.warmPoolFull(pool, replicas),
    timeout,
  )
