import type { SandboxPool } from "@agent-sandbox/domain"
import {
  KubeClient,
  type KubeError,
  ObjectRef,
  Patch,
  ResourceType,
  RetryOnConflict,
} from "@agent-sandbox/kube"
import { Clock, Effect, Option } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import { ClusterState } from "../cluster/ClusterState.ts"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as PoolTemplate from "../sandbox/PoolTemplate.ts"
import * as Recycle from "../sandbox/Recycle.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import { PodStateScrubber } from "./PodStateScrubber.ts"
import * as PoolDemand from "./PoolDemand.ts"
import * as WarmQueue from "./WarmQueue.ts"
import { WarmQueues } from "./WarmQueues.ts"

/** What became of the sandbox's Pod. */
export type Outcome =
  | { readonly _tag: "Recycled"; readonly pod: Pod }
  | { readonly _tag: "Deleted"; readonly reason: Recycle.DeleteReason }
  /** The sandbox had ended already (another release, an expiry, the Pod gone). */
  | { readonly _tag: "Gone" }
  /** The Pod's current version no longer calls for the end (an extend landed first): it lives on. */
  | { readonly _tag: "Kept" }

const gone: Outcome = { _tag: "Gone" }

/**
 * Whether the end is still due on a version of the Pod: a release ends the sandbox whatever else
 * changed; an expiry (or a start that timed out) only while the version written on still says so.
 */
export type StillDue = (sandbox: SandboxPod.SandboxPod, now: number) => boolean

const always: StillDue = () => true

/**
 * Ends sandboxes (release, expiry, a failed start): recycles the Pod in place or deletes it, as
 * the pool's recycle policy and Recycle.decide say. Every write is conditional on the version of
 * the Pod that was read, and a conflict reads it again and checks it still holds this sandbox:
 * a Pod is never wiped or deleted under the next tenant's feet.
 */
export const make = Effect.gen(function* () {
  const client = yield* KubeClient.KubeClient
  const cluster = yield* ClusterState
  const warmQueues = yield* WarmQueues
  const scrubber = yield* PodStateScrubber

  /**
   * The pool has its warm target without this Pod, from counts kept per Pod event (O(1)): its idle
   * Pods as the watch shows them (this one left out, should the watch not have brought its claim
   * yet), and the callers waiting here and on other replicas.
   */
  const poolFull = (pool: SandboxPool, poolKey: string, podKey: string, now: number) =>
    Effect.gen(function* () {
      const idle = cluster.idleBesides(poolKey, pool.metadata.uid ?? "", podKey)
      // Fewer idle Pods than replicas: recycled whatever waits (the common case reads nothing more).
      if (idle < pool.spec.replicas) return false
      // Every replica's published count, this one's too (counted twice at worst: recycled then).
      const waiting =
        (yield* WarmQueue.waitingCount(yield* warmQueues.of(poolKey))) +
        PoolDemand.othersWaiting(pool.metadata.annotations, "", now).waiting
      return Recycle.poolIsFull({ idle, warmTarget: Recycle.releaseWarmTarget(pool, waiting) })
    })

  const decide = (pod: Pod, sandbox: SandboxPod.SandboxPod) =>
    Effect.gen(function* () {
      const poolKey = SandboxPod.poolKey(sandbox.namespace, sandbox.pool)
      const pool = yield* cluster.pools.store.get(poolKey)
      const now = yield* Clock.currentTimeMillis
      if (Option.isNone(pool))
        return Recycle.decide({
          pod,
          policy: { type: "Delete", acceptPodStateCarryOver: false },
          target: undefined,
          now,
        })
      const template = yield* PoolTemplate.resolve(pool.value, cluster.templates.store)
      return Recycle.decide({
        pod,
        policy: pool.value.spec.recyclePolicy,
        target: PoolTemplate.targetOf(pool.value, template),
        now,
        poolFull: yield* poolFull(pool.value, poolKey, ObjectRef.keyOf(pod), now),
        agentOnNode: yield* scrubber.serves(pod.spec?.nodeName),
      })
    })

  /** One conditional write ending the sandbox on this version of its Pod (undefined: the Pod is gone). */
  const endOn = (sandboxId: string, stillDue: StillDue) => (pod: Pod | undefined) =>
    Effect.gen(function* () {
      const sandbox = pod === undefined ? undefined : SandboxPod.read(pod)
      if (
        pod === undefined ||
        sandbox === undefined ||
        sandbox.state !== "allocated" ||
        sandbox.sandboxId !== sandboxId
      ) {
        return gone
      }
      // Read again after a conflict: an extend that landed meanwhile keeps the sandbox alive.
      if (!stillDue(sandbox, yield* Clock.currentTimeMillis)) return { _tag: "Kept" } as const
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
      const outcome = yield* written.pipe(
        Effect.catchIf(
          (e) => e.reason === "NotFound",
          () => Effect.succeed(gone),
        ),
      )
      // Read-your-writes: this replica's lookups no longer find the sandbox, before its watch says so.
      if (outcome._tag !== "Gone")
        yield* cluster.rememberEnd(sandboxId, ObjectRef.keyOf(pod), sandbox.resourceVersion)
      return outcome
    })

  /**
   * Ends the sandbox `sandboxId` on this Pod (as last seen; a stale version is read again), if
   * `stillDue` says so of the version written on.
   */
  const end = (
    seen: Pod,
    sandboxId: string,
    stillDue: StillDue = always,
  ): Effect.Effect<Outcome, KubeError.KubeError> => {
    const reread = client
      .get(ResourceType.Pod, seen.metadata?.name ?? "", { namespace: seen.metadata?.namespace })
      .pipe(
        Effect.catchIf(
          (e) => e.reason === "NotFound",
          () => Effect.succeed(undefined),
        ),
      )
    return RetryOnConflict.retryOnConflict<
      Pod | undefined,
      Outcome,
      KubeError.KubeError,
      never,
      KubeError.KubeError,
      never
    >(reread, endOn(sandboxId, stillDue), { seen, maxAttempts: 6 }).pipe(
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
  }

  return { end }
})

export type Recycler = Effect.Effect.Success<typeof make>
