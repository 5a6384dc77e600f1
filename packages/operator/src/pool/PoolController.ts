import type { SandboxTemplate } from "@agent-sandbox/domain"
import {
  Controller,
  type KubeClient,
  LeaderElection,
  ObjectRef,
  Trigger,
  WatcherEvent,
} from "@agent-sandbox/kube"
import { Effect, Layer, Stream } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import type { PodStateScrubber } from "../allocation/PodStateScrubber.ts"
import { WarmQueues } from "../allocation/WarmQueues.ts"
import { ClusterState } from "../cluster/ClusterState.ts"
import { SandboxPoolResource } from "../cluster/SandboxResources.ts"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as CreateExpectations from "./CreateExpectations.ts"
import * as PoolReconciler from "./PoolReconciler.ts"

export interface PoolControllerOptions {
  readonly replicaId: string
  /** Pools reconciled at once (of different pools: one pool never twice at once). */
  readonly concurrency: number
}

/** How long Pod events gather before their pools are triggered. */
const podTriggerWindow = "50 millis"

const poolOf = (pod: Pod): Array<ObjectRef.ObjectRef> => {
  const pool = pod.metadata?.labels?.[SandboxPod.Label.pool]
  return pool === undefined ? [] : [ObjectRef.make(pool, pod.metadata?.namespace)]
}

/**
 * The pool controller: kube's Controller over the shared pool informer, run only while this
 * replica holds the leader Lease. A pool is reconciled when it changes, when its template changes,
 * when one of its Pods changes (events batched: a burst of claims is one Pod event per claim), and
 * when a caller starts waiting for it; at most twice a second per pool.
 */
export const layer = (
  options: PoolControllerOptions,
): Layer.Layer<
  never,
  never,
  ClusterState | WarmQueues | KubeClient.KubeClient | LeaderElection.LeaderElection | PodStateScrubber
> =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const election = yield* LeaderElection.LeaderElection
      const cluster = yield* ClusterState
      const warmQueues = yield* WarmQueues
      // Lowered by the Pod watch as it shows each Pod, in any state (see CreateExpectations).
      const expectations = CreateExpectations.make()
      yield* cluster.pods.listen((event) =>
        Effect.sync(() => {
          const pod = WatcherEvent.objectOf(event)
          const poolKey = pod === undefined ? undefined : SandboxPod.poolKeyOf(pod)
          if (pod !== undefined && poolKey !== undefined)
            CreateExpectations.lower(expectations, poolKey, pod.metadata?.name ?? "")
        }),
      )

      const whileLeader = Effect.scoped(
        Effect.gen(function* () {
          yield* Effect.logInfo("leading: reconciling pools")
          yield* cluster.ready
          const { reconcile, forget } = yield* PoolReconciler.make({
            replicaId: options.replicaId,
            expectations,
          })
          const pods = yield* Trigger.listened(poolOf, podTriggerWindow)
          yield* cluster.pods.listen(pods.listener)
          const templates = Trigger.mapped((template: SandboxTemplate) =>
            Array.from(
              cluster.pools.store.unsafeByIndex("template", template.metadata?.name ?? "")?.values() ?? [],
              ObjectRef.fromObject,
            ),
          )(yield* cluster.templates.subscribe())
          const waiting = Stream.map(yield* warmQueues.waitingStarted, ObjectRef.parseKey)
          const gone = (yield* cluster.pools.subscribe()).pipe(
            Stream.filter((event) => event._tag === "Delete"),
            Stream.mapEffect((event) => Effect.as(forget(ObjectRef.fromObject(event.object)), [])),
            Stream.flattenIterables,
          )
          return yield* Controller.make({
            type: SandboxPoolResource,
            informer: cluster.pools,
            triggers: Stream.mergeAll([pods.refs, templates, waiting, gone], { concurrency: "unbounded" }),
            reconcile: (pool) => OperatorMetrics.timeReconcile(reconcile(pool)),
            errorPolicy: Controller.retryWithBackoff({ base: "500 millis", max: "30 seconds" }),
            concurrency: options.concurrency,
            minInterval: "500 millis",
          })
        }),
      )
      yield* Effect.forkScoped(election.runWhileLeader(whileLeader))
    }),
  )
