import {
  CapacityUnavailable,
  ClusterUnavailable,
  InvalidRequest,
  PoolNotFound,
  type SandboxIdFormat,
  type SandboxPool,
  TooManyWaiting,
} from "@agent-sandbox/domain"
import type { KubeClient, KubeError } from "@agent-sandbox/kube"
import { Clock, Duration, Effect, Either, Option } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import type { ClusterStateShape } from "../cluster/ClusterState.ts"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as PoolTemplate from "../sandbox/PoolTemplate.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import type { AllocationError, AllocationRequest } from "./AllocationRequest.ts"
import * as Claim from "./Claim.ts"
import * as ImageSwitch from "./ImageSwitch.ts"
import type { Recycler } from "./Recycler.ts"
import * as WarmQueue from "./WarmQueue.ts"
import type { WarmQueuesShape } from "./WarmQueues.ts"

export interface AllocateOptions {
  /** Longest a caller waits for a Pod when the pool is empty (also bounded by the pool's startup timeout). */
  readonly maxWait: Duration.DurationInput
  /** Retry-After sent with 503/429. */
  readonly retryAfterSeconds: number
  /** Minted ids carry it (`<cluster>-<random>`), so cross-cluster routing needs no lookup. */
  readonly clusterTag?: SandboxIdFormat.ClusterTag | undefined
}

/**
 * What a tenant is told when the API server fails: its reason class only. The API server's own
 * message names objects, fields and internals no tenant should read (issue 13); it goes to the log.
 */
export const clusterUnavailable = (error: KubeError.KubeError): ClusterUnavailable =>
  new ClusterUnavailable({ message: `the Kubernetes API failed (${error.reason}); retry later` })

/** `clusterUnavailable`, with the API server's own message logged for the operator. */
export const clusterUnavailableLogged = (error: KubeError.KubeError) =>
  Effect.as(
    Effect.logWarning("Kubernetes API failure answered as ClusterUnavailable", error.reason, error.message),
    clusterUnavailable(error),
  )

/** The timeout a request gets: its own, or the pool's default; never above the pool's maximum. */
export const effectiveTimeout = (
  pool: SandboxPool,
  requested: number | undefined,
): Either.Either<number, InvalidRequest> => {
  const { defaultTimeoutSeconds, maxTimeoutSeconds } = pool.spec.sandbox
  const timeout = requested ?? defaultTimeoutSeconds
  return timeout > maxTimeoutSeconds
    ? Either.left(
        new InvalidRequest({
          message: `timeoutSeconds ${timeout} exceeds the pool's maximum of ${maxTimeoutSeconds}`,
        }),
      )
    : Either.right(timeout)
}

export const findPool = (cluster: ClusterStateShape, namespace: string, name: string) =>
  Effect.flatMap(cluster.pools.store.get(SandboxPod.poolKey(namespace, name)), (pool) =>
    Option.match(pool, {
      onNone: () =>
        Effect.fail(
          new PoolNotFound({ namespace, pool: name, message: `SandboxPool ${namespace}/${name} not found` }),
        ),
      onSome: Effect.succeed,
    }),
  )

/**
 * Allocation: take a warm Pod of the pool (or wait in line for one), claim it with one conditional
 * write, and, when the claim switched its image, wait until it is Ready on it. A lost race (409) takes
 * the next Pod.
 */
export const make = (
  options: AllocateOptions,
  deps: {
    readonly cluster: ClusterStateShape
    readonly warmQueues: WarmQueuesShape
    readonly recycler: Recycler
    readonly client: KubeClient.KubeClientShape
  },
) => {
  const { cluster, warmQueues, recycler } = deps
  /** Ends a sandbox nobody will use (its caller went, or it failed to start); best effort. */
  const abandon = (pod: Pod, sandboxId: string | undefined) =>
    Effect.ignore(recycler.end(pod, sandboxId ?? ""))

  return (
    request: AllocationRequest,
  ): Effect.Effect<readonly [SandboxPod.SandboxPod, Pod], AllocationError> =>
    Effect.gen(function* () {
      const pool = yield* findPool(cluster, request.namespace, request.pool)
      const timeout = yield* effectiveTimeout(pool, request.timeoutSeconds)
      const template = yield* PoolTemplate.resolve(pool, cluster.templates.store)
      const wanted = yield* PoolTemplate.wanted(template, request)
      const startupTimeout = pool.spec.sandbox.startupTimeoutSeconds
      const poolKey = SandboxPod.poolKey(request.namespace, request.pool)
      const queue = yield* warmQueues.of(poolKey)
      const wait = Duration.min(Duration.decode(options.maxWait), Duration.seconds(startupTimeout))
      const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(wait)

      const toAllocationError = (error: WarmQueue.QueueFull | WarmQueue.WaitTimedOut) =>
        error._tag === "QueueFull"
          ? new TooManyWaiting({
              message: `${error.capacity} callers are already waiting for pool ${poolKey}`,
              retryAfterSeconds: options.retryAfterSeconds,
            })
          : new CapacityUnavailable({
              message: `no sandbox of pool ${poolKey} became free within ${Duration.format(wait)}`,
              retryAfterSeconds: options.retryAfterSeconds,
            })

      /**
       * Take a Pod and claim it. Only the wait in line can be interrupted: a taken Pod is always
       * settled (never stranded in flight), a claim once sent is seen through, and a claim that
       * succeeds for a caller who has gone meanwhile is undone (nobody would ever learn its id).
       */
      const attempt = Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const taken = yield* WarmQueue.takeMasked(
            queue,
            {
              preferImage: wanted?.image,
              wait: Duration.millis(Math.max(0, deadline - now)),
              // Tell the pool controller once the caller counts as waiting: it scales up for waiting callers.
              onQueued: warmQueues.callerWaits(poolKey),
            },
            restore,
          ).pipe(Effect.mapError(toAllocationError))
          const result = yield* Effect.either(
            Claim.claim(
              deps.client,
              request,
              taken,
              timeout,
              wanted,
              cluster.sandboxIdInUse,
              options.clusterTag,
            ),
          )
          if (result._tag === "Left") {
            const lostRace = result.left.reason === "Conflict" || result.left.reason === "NotFound"
            // Lost a race (another replica, or the Pod changed or went away): only a newer idle
            // version goes back. Any other failure may or may not have landed; the Pod goes back
            // as taken, and its resourceVersion keeps a second claim from landing on top.
            if (lostRace)
              OperatorMetrics.claimConflicts.inc({ namespace: request.namespace, pool: request.pool })
            yield* WarmQueue.settle(queue, taken, lostRace ? "conflict" : "unused")
            return lostRace ? Option.none() : yield* Effect.flip(clusterUnavailableLogged(result.left))
          }
          yield* WarmQueue.settle(queue, taken, "claimed")
          const { pod, swapped } = result.right
          yield* cluster.rememberWrite(pod, taken.resourceVersion)
          const claimed = SandboxPod.read(pod)
          if (claimed === undefined) return Option.none()
          if (!swapped || request.wait === false || wanted === undefined) {
            yield* restore(Effect.void).pipe(Effect.onInterrupt(() => abandon(pod, claimed.sandboxId)))
            return Option.some([claimed, pod] as const)
          }
          const ready = yield* restore(
            ImageSwitch.untilReady(cluster, claimed, wanted.image, startupTimeout),
          ).pipe(
            Effect.onInterrupt(() => abandon(pod, claimed.sandboxId)),
            Effect.tapError(() => abandon(pod, claimed.sandboxId)),
          )
          return Option.some(ready)
        }),
      )

      while (true) {
        const claimed = yield* attempt
        if (Option.isSome(claimed)) return claimed.value
      }
    })
}
