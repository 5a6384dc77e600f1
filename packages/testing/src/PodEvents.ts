import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Effect, type Scope, Stream } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"

/**
 * Every Pod event of a namespace from the moment `record` returns, as a watch reports them (the
 * API server's own order): which Pods were created and deleted, and each Pod's latest version, so
 * a test can check an invariant after every single event rather than only at the end.
 */
export interface PodEvents {
  /** Pod names the watch saw ADDED after recording began. */
  readonly created: ReadonlySet<string>
  /** Pod names the watch saw DELETED after recording began. */
  readonly deleted: ReadonlySet<string>
  /** The latest version of every Pod, by name. */
  readonly pods: ReadonlyMap<string, Pod>
}

export const record = (
  namespace: string,
  /** Runs after each event, on the state as it is then. */
  onEvent: (events: PodEvents) => void = () => {},
): Effect.Effect<PodEvents, unknown, Scope.Scope | KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const created = new Set<string>()
    const deleted = new Set<string>()
    const pods = new Map<string, Pod>()
    const events: PodEvents = { created, deleted, pods }
    const listed = yield* client.list(ResourceType.Pod, { namespace })
    for (const pod of listed.items) pods.set(pod.metadata?.name ?? "", pod)
    let resourceVersion = listed.resourceVersion
    // One watch request ends when the server ends it; the next resumes from the last version seen.
    const once = Effect.suspend(() =>
      client.watch(ResourceType.Pod, { namespace, resourceVersion, allowWatchBookmarks: true }).pipe(
        Stream.runForEach((event) =>
          Effect.sync(() => {
            if (event.type === "BOOKMARK") {
              resourceVersion = event.resourceVersion
              return
            }
            if (event.type === "ERROR") throw new Error(`watch failed: ${event.error.message}`)
            const name = event.object.metadata?.name ?? ""
            resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion
            if (event.type === "ADDED") created.add(name)
            if (event.type === "DELETED") {
              deleted.add(name)
              pods.delete(name)
            } else {
              pods.set(name, event.object)
            }
            onEvent(events)
          }),
        ),
      ),
    )
    yield* Effect.forkScoped(Effect.forever(once))
    return events
  })
