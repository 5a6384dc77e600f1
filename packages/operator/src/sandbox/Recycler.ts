import { KubeClient, type KubeError, Patch, ResourceType } from "@agent-sandbox/kube"
import { Clock, Effect, Option } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as PodIndex from "../cluster/PodIndex.ts"
import { SandboxCache } from "../cluster/SandboxCache.ts"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as PoolTemplate from "../pool/PoolTemplate.ts"
import * as Recycle from "./Recycle.ts"
import * as SandboxPod from "./SandboxPod.ts"

/** What became of the sandbox's Pod. */
export type Outcome =
  | { readonly _tag: "Recycled"; readonly pod: Pod }
  | { readonly _tag: "Deleted"; readonly reason: Recycle.DeleteReason }
  /** The sandbox had ended already (another release, an expiry, the Pod gone). */
  | { readonly _tag: "Gone" }

const maxAttempts = 6

/**
 * Ends sandboxes (release, expiry, a failed start): recycles the Pod in place or deletes it, as
 * the pool's recycle policy and Recycle.decide say. Every write is conditional on the version of
 * the Pod that was read, and a conflict reads it again and checks it still holds this sandbox:
 * a Pod is never wiped or deleted under the next tenant's feet.
 */
export const make = Effect.gen(function* () {
  const client = yield* KubeClient.KubeClient
  const cache = yield* SandboxCache

  const decide = (pod: Pod, sandbox: SandboxPod.SandboxPod) =>
    Effect.gen(function* () {
      const pool = yield* cache.pools.get(PodIndex.poolKey(sandbox.namespace, sandbox.pool))
      const template = Option.isNone(pool)
        ? Option.none()
        : yield* PoolTemplate.resolve(pool.value, cache.templates)
      return Recycle.decide({
        pod,
        policy: Option.isNone(pool) ? { type: "Delete" } : pool.value.spec.recyclePolicy,
        target: Option.isNone(pool) ? undefined : PoolTemplate.targetOf(pool.value, template),
        now: yield* Clock.currentTimeMillis,
      })
    })

  const reread = (pod: Pod) =>
    client.get(ResourceType.Pod, pod.metadata?.name ?? "", { namespace: pod.metadata?.namespace }).pipe(
      Effect.map(Option.some),
      Effect.catchIf(
        (e) => e.reason === "NotFound",
        () => Effect.succeed(Option.none<Pod>()),
      ),
    )

  /** Ends the sandbox `sandboxId` on this Pod (as last seen; a stale version is read again). */
  const end = (seen: Pod, sandboxId: string): Effect.Effect<Outcome, KubeError.KubeError> =>
    Effect.gen(function* () {
      let pod = seen
      for (let attempt = 1; ; attempt++) {
        const sandbox = SandboxPod.read(pod)
        if (sandbox === undefined || sandbox.state !== "allocated" || sandbox.sandboxId !== sandboxId) {
          return { _tag: "Gone" } as const
        }
        const decision = yield* decide(pod, sandbox)
        const written =
          decision._tag === "InPlace"
            ? client
                .patch(ResourceType.Pod, sandbox.name, Patch.strategic(decision.patch), {
                  namespace: sandbox.namespace,
                })
                .pipe(Effect.map((recycled): Outcome => ({ _tag: "Recycled", pod: recycled })))
            : client
                .delete(ResourceType.Pod, sandbox.name, {
                  namespace: sandbox.namespace,
                  preconditions: { uid: sandbox.uid, resourceVersion: sandbox.resourceVersion },
                })
                .pipe(Effect.as<Outcome>({ _tag: "Deleted", reason: decision.reason }))
        const result = yield* Effect.either(written)
        if (result._tag === "Right") return result.right
        if (result.left.reason === "NotFound") return { _tag: "Gone" } as const
        if (result.left.reason !== "Conflict" || attempt >= maxAttempts)
          return yield* Effect.fail(result.left)
        const fresh = yield* reread(pod)
        if (Option.isNone(fresh)) return { _tag: "Gone" } as const
        pod = fresh.value
      }
    }).pipe(
      Effect.tapBoth({
        onSuccess: (o) =>
          Effect.sync(() =>
            OperatorMetrics.sandboxEnds.inc({
              namespace: seen.metadata?.namespace ?? "",
              result: o._tag.toLowerCase(),
            }),
          ),
        onFailure: () =>
          Effect.sync(() =>
            OperatorMetrics.sandboxEnds.inc({ namespace: seen.metadata?.namespace ?? "", result: "error" }),
          ),
      }),
      Effect.withSpan("Recycler.end"),
    )

  return { end }
})

export type Recycler = Effect.Effect.Success<typeof make>
