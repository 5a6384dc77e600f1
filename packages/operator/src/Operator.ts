import { Controller, type KubeClient, LeaderElection } from "@agent-sandbox/kube"
import { Effect, Layer } from "effect"
import * as Allocator from "./allocation/Allocator.ts"
import * as DemandPublisher from "./allocation/DemandPublisher.ts"
import * as SandboxCache from "./cluster/SandboxCache.ts"
import * as OperatorMetrics from "./metrics/OperatorMetrics.ts"
import * as PoolReconciler from "./pool/PoolReconciler.ts"

export interface OperatorOptions {
  readonly cache: SandboxCache.SandboxCacheOptions
  readonly allocator: Allocator.AllocatorOptions
  /** Pools reconciled at once (of different pools: one pool never twice at once). */
  readonly reconcileConcurrency: number
}

/** The pool reconcilers, run only while this replica holds the leader Lease. */
export const reconcilersLayer = (
  concurrency: number,
  replicaId: string,
): Layer.Layer<
  never,
  never,
  SandboxCache.SandboxCache | KubeClient.KubeClient | LeaderElection.LeaderElection
> =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const election = yield* LeaderElection.LeaderElection
      const cache = yield* SandboxCache.SandboxCache
      const reconcile = yield* PoolReconciler.make({ replicaId })
      const whileLeader = Effect.scoped(
        Effect.gen(function* () {
          yield* Effect.logInfo("leading: reconciling pools")
          yield* cache.ready
          const triggers = yield* cache.poolTriggers
          // Every claim is a Pod event of its pool: reconcile a pool at most twice a second, so a
          // burst of allocations costs a few refills and status writes, not one of each per claim.
          const timed: typeof reconcile = (ref) => OperatorMetrics.timeReconcile(reconcile(ref))
          return yield* Controller.run({ triggers, reconcile: timed, concurrency, minInterval: "500 millis" })
        }),
      )
      yield* Effect.forkScoped(election.runWhileLeader(whileLeader))
    }),
  )

/**
 * The operator: the cache every replica keeps, the allocator every replica serves (and the count
 * of callers waiting on it, published for the leader), and the reconcilers the leader runs.
 */
export const layer = (
  options: OperatorOptions,
): Layer.Layer<
  Allocator.Allocator | SandboxCache.SandboxCache,
  never,
  KubeClient.KubeClient | LeaderElection.LeaderElection
> =>
  Layer.mergeAll(
    Allocator.layer(options.allocator),
    DemandPublisher.layer({ replicaId: options.cache.replicaId }),
    reconcilersLayer(options.reconcileConcurrency, options.cache.replicaId),
  ).pipe(Layer.provideMerge(SandboxCache.layer(options.cache)))
