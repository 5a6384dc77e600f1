import { KubeClient, ObjectRef, Patch } from "@agent-sandbox/kube"
import { Clock, Duration, Effect, Layer, Schedule } from "effect"
import { SandboxPoolResource } from "../cluster/SandboxResources.ts"
import * as PoolDemand from "./PoolDemand.ts"
import * as WarmQueue from "./WarmQueue.ts"
import { WarmQueues } from "./WarmQueues.ts"

export interface DemandPublisherOptions {
  readonly replicaId: string
  /** How often the waiting counts are compared with what was published: the write throttle. */
  readonly interval?: Duration.DurationInput | undefined
  /** How long a published count counts without a refresh. */
  readonly ttl?: Duration.DurationInput | undefined
}

/**
 * Publishes this replica's waiting callers per pool (see PoolDemand), so the leader scales up
 * for callers waiting on any replica, not only on itself. At most one write per pool per
 * interval, and only when the count changed or needs a refresh; removed again at zero and when
 * the replica stops.
 */
export const make = (options: DemandPublisherOptions) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const warmQueues = yield* WarmQueues
    const key = PoolDemand.annotationKey(options.replicaId)
    const ttlMs = Duration.toMillis(Duration.decode(options.ttl ?? "15 seconds"))
    const published = new Map<string, PoolDemand.Published>()

    const write = (poolKey: string, waiting: number, until: number) => {
      const ref = ObjectRef.parseKey(poolKey)
      return client
        .patch(SandboxPoolResource, ref.name, Patch.merge(PoolDemand.patch(key, waiting, until)), {
          namespace: ref.namespace,
        })
        .pipe(
          Effect.asVoid,
          // A deleted pool needs no count; nothing to retry.
          Effect.catchIf(
            (e) => e.reason === "NotFound",
            () => Effect.void,
          ),
          Effect.tap(() =>
            Effect.sync(() => {
              if (waiting === 0) published.delete(poolKey)
              else published.set(poolKey, { waiting, until })
            }),
          ),
          // Retried at the next tick.
          Effect.catchAll((error) =>
            Effect.logWarning("publishing waiting callers failed").pipe(
              Effect.annotateLogs({ pool: poolKey, reason: error.reason, message: error.message }),
            ),
          ),
        )
    }

    const tick = Effect.gen(function* () {
      const queues = yield* warmQueues.all
      const now = yield* Clock.currentTimeMillis
      const due: Array<readonly [string, number]> = []
      for (const [poolKey, queue] of queues) {
        const waiting = yield* WarmQueue.waitingCount(queue)
        if (PoolDemand.shouldPublish(waiting, published.get(poolKey), now, ttlMs))
          due.push([poolKey, waiting])
      }
      yield* Effect.forEach(due, ([poolKey, waiting]) => write(poolKey, waiting, now + ttlMs), {
        concurrency: 8,
        discard: true,
      })
    })

    // Runs as a finalizer, which is uninterruptible: the writes are made interruptible so that the
    // timeout can end them when the API server stops answering.
    const clear = Effect.forEach(Array.from(published.keys()), (poolKey) => write(poolKey, 0, 0), {
      concurrency: 8,
      discard: true,
    }).pipe(Effect.interruptible, Effect.timeout("2 seconds"), Effect.ignore)

    return { tick, clear }
  })

export const layer = (
  options: DemandPublisherOptions,
): Layer.Layer<never, never, WarmQueues | KubeClient.KubeClient> =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const publisher = yield* make(options)
      // Finalizers run in reverse: the loop stops before the counts are cleared.
      yield* Effect.addFinalizer(() => publisher.clear)
      yield* Effect.forkScoped(
        publisher.tick.pipe(Effect.repeat(Schedule.spaced(options.interval ?? "250 millis"))),
      )
    }),
  )
