import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Deferred, Duration, Effect, Stream } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import { type LoadResult, runLoad } from "../support/LoadLoop.ts"

/**
 * The cold path a warm pool avoids: create a Pod and wait until it is Running and Ready, as seen
 * by a watch (the way the operator sees it). On this control plane that is the API server, the
 * scheduler and KWOK; a real node adds image pull and container start (seconds to a minute).
 */
const coldLabel = "bench.agent-sandbox.dev/cold"

const isRunningReady = (pod: Pod) =>
  pod.status?.phase === "Running" &&
  (pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false)

export const coldStart = (options: {
  readonly namespace: string
  readonly round: string
  readonly count: number
  readonly concurrency: number
  readonly image: string
}): Effect.Effect<LoadResult, unknown, KubeClient.KubeClient> =>
  Effect.scoped(
    Effect.gen(function* () {
      const client = yield* KubeClient.KubeClient
      const selector = `${coldLabel}=${options.round}`
      const ready = new Map<string, Deferred.Deferred<void>>()
      for (let i = 0; i < options.count; i++)
        ready.set(`cold-${options.round}-${i}`, yield* Deferred.make<void>())
      // Watch from the version of an (empty) list: every change to these Pods is seen, none missed.
      const listed = yield* client.list(ResourceType.Pod, {
        namespace: options.namespace,
        labelSelector: selector,
      })
      yield* client
        .watch(ResourceType.Pod, {
          namespace: options.namespace,
          labelSelector: selector,
          resourceVersion: listed.resourceVersion,
        })
        .pipe(
          Stream.runForEach((event) => {
            if (event.type !== "ADDED" && event.type !== "MODIFIED") return Effect.void
            const waiting = ready.get(event.object.metadata?.name ?? "")
            return waiting !== undefined && isRunningReady(event.object)
              ? Deferred.succeed(waiting, undefined)
              : Effect.void
          }),
          Effect.forkScoped,
        )
      return yield* runLoad(
        { count: options.count, concurrency: options.concurrency, timeLimit: Duration.minutes(3) },
        (i) => {
          const name = `cold-${options.round}-${i}`
          return client
            .create(ResourceType.Pod, {
              metadata: { name, namespace: options.namespace, labels: { [coldLabel]: options.round } },
              spec: { containers: [{ name: "sandbox", image: options.image }] },
            })
            .pipe(
              Effect.mapError((e) => `create: ${e.reason}`),
              Effect.zipRight(
                Deferred.await(ready.get(name)!).pipe(
                  Effect.timeoutFail({
                    duration: Duration.seconds(60),
                    onTimeout: () => "not Running+Ready within 60 s",
                  }),
                ),
              ),
            )
        },
      )
    }),
  )
