import {
  CapacityUnavailable,
  ClusterUnavailable,
  InvalidRequest,
  PoolNotFound,
  SandboxImageFailed,
  SandboxNotFound,
  type SandboxPool,
  SandboxStartupTimeout,
  TooManyWaiting,
} from "@agent-sandbox/domain"
import { KubeClient, type KubeError, ObjectRef, Patch, ResourceType } from "@agent-sandbox/kube"
import { Clock, Context, Duration, Effect, Either, Layer, Option } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as PodIndex from "../cluster/PodIndex.ts"
import { SandboxCache } from "../cluster/SandboxCache.ts"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as PoolTemplate from "../pool/PoolTemplate.ts"
import * as Recycler from "../sandbox/Recycler.ts"
import * as SandboxId from "../sandbox/SandboxId.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as WarmQueue from "./WarmQueue.ts"

export interface AllocationRequest {
  readonly namespace: string
  readonly pool: string
  readonly tenant: string
  readonly timeoutSeconds?: number | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /**
   * Extra annotations written by the claim. Keep them under an `*.agent-sandbox.dev/` prefix (as
   * `e2b.agent-sandbox.dev/…`): recycling a Pod removes exactly those (SandboxPod.isSandboxKey).
   */
  readonly annotations?: Readonly<Record<string, string>> | undefined
  /** A runtime of the pool's template, by name (its image; its env goes to the data plane). */
  readonly runtime?: string | undefined
  /** An image for the sandbox container. Neither: the template's own image. */
  readonly image?: string | undefined
  /**
   * When the Pod must switch image: wait until it is Ready on it (default), or answer at once
   * (the sandbox reads ready: false until then; the pool ends it if it misses its startup timeout).
   */
  readonly wait?: boolean | undefined
}

export interface Caller {
  readonly tenant: string
  readonly admin: boolean
}

export type AllocationError =
  | PoolNotFound
  | InvalidRequest
  | CapacityUnavailable
  | TooManyWaiting
  | ClusterUnavailable
  | SandboxImageFailed
  | SandboxStartupTimeout

export interface AllocatorShape {
  /** Claims one warm Pod with one conditional write; waits (fairly, bounded) when none is idle. */
  readonly allocate: (request: AllocationRequest) => Effect.Effect<SandboxPod.SandboxPod, AllocationError>
  /** `count` sandboxes, all or none: on failure the ones already claimed are released. */
  readonly allocateBatch: (
    request: AllocationRequest,
    count: number,
  ) => Effect.Effect<ReadonlyArray<SandboxPod.SandboxPod>, AllocationError>
  /** The caller's sandbox (an admin sees every tenant's). */
  readonly get: (caller: Caller, sandboxId: string) => Effect.Effect<SandboxPod.SandboxPod, SandboxNotFound>
  readonly list: (caller: Caller) => Effect.Effect<ReadonlyArray<SandboxPod.SandboxPod>>
  /** Sets the sandbox to expire `timeoutSeconds` from now, within the pool's maximum. */
  readonly extend: (
    caller: Caller,
    sandboxId: string,
    timeoutSeconds: number,
  ) => Effect.Effect<SandboxPod.SandboxPod, SandboxNotFound | InvalidRequest | ClusterUnavailable>
  /** Ends the sandbox: its Pod is recycled in place or deleted, per the pool's recycle policy. */
  readonly release: (
    caller: Caller,
    sandboxId: string,
  ) => Effect.Effect<void, SandboxNotFound | ClusterUnavailable>
}

export class Allocator extends Context.Tag("@agent-sandbox/operator/Allocator")<
  Allocator,
  AllocatorShape
>() {}

export interface AllocatorOptions {
  /** Longest a caller waits for a Pod when the pool is empty (also bounded by the pool's startup timeout). */
  readonly maxWait: Duration.DurationInput
  /** Retry-After sent with 503/429. */
  readonly retryAfterSeconds: number
}

const clusterUnavailable = (error: KubeError.KubeError) =>
  new ClusterUnavailable({ message: `Kubernetes API: ${error.reason}: ${error.message}` })

const notFound = (sandboxId: string) =>
  new SandboxNotFound({ sandboxId, message: `sandbox ${sandboxId} not found` })

export const visibleTo = (caller: Caller, sandbox: SandboxPod.SandboxPod): boolean =>
  sandbox.state === "allocated" && (caller.admin || sandbox.tenant === caller.tenant)

/** The timeout a request gets: its own, or the pool's default; never above the pool's maximum. */
export const effectiveTimeout = (
  pool: SandboxPool,
  requested: number | undefined,
): Result<number, InvalidRequest> => {
  const { defaultTimeoutSeconds, maxTimeoutSeconds } = pool.spec.sandbox
  const timeout = requested ?? defaultTimeoutSeconds
  return timeout > maxTimeoutSeconds
    ? {
        _tag: "Left",
        left: new InvalidRequest({
          message: `timeoutSeconds ${timeout} exceeds the pool's maximum of ${maxTimeoutSeconds}`,
        }),
      }
    : { _tag: "Right", right: timeout }
}
type Result<A, E> =
  | { readonly _tag: "Right"; readonly right: A }
  | { readonly _tag: "Left"; readonly left: E }

export const make = (options: AllocatorOptions) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const cache = yield* SandboxCache
    const recycler = yield* Recycler.make

    const findPool = (namespace: string, name: string) =>
      Effect.flatMap(cache.pools.get(PodIndex.poolKey(namespace, name)), (pool) =>
        Option.match(pool, {
          onNone: () =>
            Effect.fail(
              new PoolNotFound({
                namespace,
                pool: name,
                message: `SandboxPool ${namespace}/${name} not found`,
              }),
            ),
          onSome: Effect.succeed,
        }),
      )

    /**
     * One claim attempt on a taken Pod: the single write of the allocation. When the Pod is not on
     * the wanted image the same write swaps it (see SandboxPod.claimPatch).
     */
    const claim = (
      request: AllocationRequest,
      pod: WarmQueue.WarmPod,
      timeoutSeconds: number,
      wanted: PoolTemplate.Wanted | undefined,
    ) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const swap =
          wanted === undefined || wanted.image === pod.image
            ? undefined
            : {
                containerName: pod.containerName ?? "",
                image: wanted.image,
                replacing: pod.containerId ?? "",
              }
        const patch = SandboxPod.claimPatch({
          resourceVersion: pod.resourceVersion,
          sandboxId: SandboxId.mint(),
          tenant: request.tenant,
          now,
          timeoutSeconds,
          metadata: request.metadata ?? {},
          annotations: request.annotations,
          runtime: wanted?.runtime,
          swap,
        })
        // Labels and annotations merge the same way in both patch kinds; only a container list needs
        // the strategic merge (by name), and a JSON merge patch costs the API server less.
        const write = swap === undefined ? Patch.merge(patch) : Patch.strategic(patch)
        const claimed = yield* client.patch(ResourceType.Pod, pod.name, write, {
          namespace: request.namespace,
        })
        return { pod: claimed, swapped: swap !== undefined }
      })

    /**
     * Waits until the claimed sandbox runs its new image and is Ready, as the watch shows it: the
     * kubelet's own report fails it early (a pull that fails), the deadline bounds it.
     */
    const untilReady = (claimed: SandboxPod.SandboxPod, image: string, timeoutSeconds: number) => {
      let seenOurs = false
      type Decided = Option.Option<
        Either.Either<SandboxPod.SandboxPod, ClusterUnavailable | SandboxImageFailed>
      >
      const gone = (): Either.Either<never, ClusterUnavailable> =>
        Either.left(
          new ClusterUnavailable({
            message: `sandbox ${claimed.sandboxId} ended while its image was starting`,
          }),
        )
      return cache
        .awaitPod(claimed, (pod): Decided => {
          const sandbox = pod === undefined ? undefined : SandboxPod.read(pod)
          if (sandbox === undefined) return Option.some(gone())
          // The cache may still hold the version before the claim.
          if (sandbox.sandboxId !== claimed.sandboxId) return seenOurs ? Option.some(gone()) : Option.none()
          seenOurs = true
          if (sandbox.ready) return Option.some(Either.right(sandbox))
          if (sandbox.imageStatus._tag === "Failing") {
            const { reason, message } = sandbox.imageStatus
            return Option.some(
              Either.left(
                new SandboxImageFailed({
                  image,
                  reason,
                  message: `image ${image} cannot run: ${reason}: ${message}`,
                }),
              ),
            )
          }
          return Option.none()
        })
        .pipe(
          Effect.timeoutFail({
            duration: Duration.seconds(timeoutSeconds),
            onTimeout: () =>
              new SandboxStartupTimeout({
                image,
                timeoutSeconds,
                message: `sandbox ${claimed.sandboxId} was not Ready on image ${image} within ${timeoutSeconds}s`,
              }),
          }),
        )
    }

    /** Ends a sandbox nobody will use (its caller went, or it failed to start); best effort. */
    const abandon = (pod: Pod, sandboxId: string | undefined) =>
      Effect.ignore(recycler.end(pod, sandboxId ?? ""))

    const allocate = (request: AllocationRequest): Effect.Effect<SandboxPod.SandboxPod, AllocationError> =>
      Effect.gen(function* () {
        const pool = yield* findPool(request.namespace, request.pool)
        const timeout = effectiveTimeout(pool, request.timeoutSeconds)
        if (timeout._tag === "Left") return yield* Effect.fail(timeout.left)
        const template = yield* PoolTemplate.resolve(pool, cache.templates)
        const wanted = PoolTemplate.wanted(template, request)
        if (wanted._tag === "Left") return yield* Effect.fail(wanted.left)
        const startupTimeout = pool.spec.sandbox.startupTimeoutSeconds
        const poolKey = PodIndex.poolKey(request.namespace, request.pool)
        const queue = yield* cache.warmQueue(poolKey)
        const wait = Duration.min(
          Duration.decode(options.maxWait),
          Duration.seconds(pool.spec.sandbox.startupTimeoutSeconds),
        )
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
                preferImage: wanted.right?.image,
                wait: Duration.millis(Math.max(0, deadline - now)),
                // Tell the reconciler once the caller counts as waiting: it scales up for waiting callers.
                onQueued: cache.triggerPool(ObjectRef.make(request.pool, request.namespace)),
              },
              restore,
            ).pipe(Effect.mapError(toAllocationError))
            const result = yield* Effect.either(claim(request, taken, timeout.right, wanted.right))
            if (result._tag === "Left") {
              const lostRace = result.left.reason === "Conflict" || result.left.reason === "NotFound"
              // Lost a race (another replica, or the Pod changed or went away): only a newer idle
              // version goes back. Any other failure may or may not have landed; the Pod goes back
              // as taken, and its resourceVersion keeps a second claim from landing on top.
              yield* WarmQueue.settle(queue, taken, lostRace ? "conflict" : "unused")
              if (lostRace)
                OperatorMetrics.claimConflicts.inc({ namespace: request.namespace, pool: request.pool })
              return lostRace ? Option.none() : yield* Effect.fail(clusterUnavailable(result.left))
            }
            yield* WarmQueue.settle(queue, taken, "claimed")
            const { pod, swapped } = result.right
            yield* cache.rememberClaim(pod)
            const claimed = SandboxPod.read(pod)
            if (claimed === undefined) return Option.none()
            if (!swapped || request.wait === false || wanted.right === undefined) {
              yield* restore(Effect.void).pipe(Effect.onInterrupt(() => abandon(pod, claimed.sandboxId)))
              return Option.some(claimed)
            }
            const ready = yield* restore(untilReady(claimed, wanted.right.image, startupTimeout)).pipe(
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

    /**
     * The cache first; on a miss, the API server (a label-selected list): another replica's claim
     * may not have reached this replica's watch yet, and a caller behind a load balancer must not
     * see its fresh sandbox as missing.
     */
    const podOfSandbox = (sandboxId: string) =>
      Effect.flatMap(cache.podOfSandbox(sandboxId), (cached) =>
        Option.isSome(cached) || !SandboxId.isWellFormed(sandboxId)
          ? Effect.succeed(cached)
          : client
              .list(ResourceType.Pod, {
                namespace: cache.namespace,
                labelSelector: `${SandboxPod.Label.sandboxId}=${sandboxId}`,
              })
              .pipe(
                Effect.map((list) => Option.fromNullable(list.items[0])),
                Effect.orElseSucceed(() => Option.none<Pod>()),
              ),
      )

    const sandboxOf = (caller: Caller, sandboxId: string) =>
      Effect.flatMap(podOfSandbox(sandboxId), (pod) => {
        const sandbox = Option.flatMap(pod, (p) => Option.fromNullable(SandboxPod.read(p)))
        return Option.isSome(sandbox) && visibleTo(caller, sandbox.value) && Option.isSome(pod)
          ? Effect.succeed([pod.value, sandbox.value] as const)
          : Effect.fail(notFound(sandboxId))
      })

    const release = (caller: Caller, sandboxId: string) =>
      Effect.flatMap(sandboxOf(caller, sandboxId), ([pod, sandbox]) =>
        recycler.end(pod, sandboxId).pipe(
          Effect.tap(() =>
            OperatorMetrics.releases.inc({ namespace: sandbox.namespace, pool: sandbox.pool }),
          ),
          Effect.mapError(clusterUnavailable),
          Effect.flatMap((outcome) =>
            outcome._tag === "Gone" ? Effect.fail(notFound(sandboxId)) : Effect.void,
          ),
        ),
      )

    const allocateBatch = (request: AllocationRequest, count: number) =>
      Effect.gen(function* () {
        const results = yield* Effect.all(
          Array.from({ length: count }, () => Effect.either(allocate(request))),
          { concurrency: "unbounded" },
        )
        const failure = results.find((r) => r._tag === "Left")
        const claimed = results.flatMap((r) => (r._tag === "Right" ? [r.right] : []))
        if (failure === undefined) return claimed
        const caller = { tenant: request.tenant, admin: false }
        yield* Effect.forEach(claimed, (s) => Effect.ignore(release(caller, s.sandboxId ?? "")), {
          concurrency: 16,
          discard: true,
        })
        return yield* Effect.fail(failure.left)
      })

    const extend = (caller: Caller, sandboxId: string, timeoutSeconds: number) =>
      Effect.gen(function* () {
        const [pod, sandbox] = yield* sandboxOf(caller, sandboxId)
        const pool = yield* findPool(sandbox.namespace, sandbox.pool).pipe(
          Effect.mapError(() => notFound(sandboxId)),
        )
        if (timeoutSeconds > pool.spec.sandbox.maxTimeoutSeconds) {
          return yield* Effect.fail(
            new InvalidRequest({
              message: `timeoutSeconds ${timeoutSeconds} exceeds the pool's maximum of ${pool.spec.sandbox.maxTimeoutSeconds}`,
            }),
          )
        }
        const expiresAt = (yield* Clock.currentTimeMillis) + timeoutSeconds * 1000
        // Conditional on the version we read; on a conflict read the Pod again, and make sure it is still ours.
        let current = pod
        for (let attempt = 0; ; attempt++) {
          const patched = yield* Effect.either(
            client.patch(
              ResourceType.Pod,
              current.metadata?.name ?? "",
              Patch.merge(SandboxPod.expiryPatch(current.metadata?.resourceVersion ?? "", expiresAt)),
              { namespace: current.metadata?.namespace },
            ),
          )
          if (patched._tag === "Right") {
            yield* cache.rememberClaim(patched.right)
            const updated = SandboxPod.read(patched.right)
            if (updated !== undefined) return updated
          }
          if (patched._tag === "Left" && (patched.left.reason !== "Conflict" || attempt >= 5)) {
            return yield* Effect.fail(
              patched.left.reason === "NotFound" ? notFound(sandboxId) : clusterUnavailable(patched.left),
            )
          }
          current = yield* client
            .get(ResourceType.Pod, current.metadata?.name ?? "", { namespace: current.metadata?.namespace })
            .pipe(
              Effect.mapError((e) => (e.reason === "NotFound" ? notFound(sandboxId) : clusterUnavailable(e))),
            )
          if (SandboxPod.read(current)?.sandboxId !== sandboxId)
            return yield* Effect.fail(notFound(sandboxId))
        }
      })

    return {
      allocate: (request) => OperatorMetrics.timeAllocation(request, allocate(request)),
      allocateBatch,
      get: (caller, sandboxId) => Effect.map(sandboxOf(caller, sandboxId), ([, sandbox]) => sandbox),
      list: (caller) =>
        Effect.map(cache.allocatedPods, (pods) =>
          pods.flatMap((pod) => {
            const sandbox = SandboxPod.read(pod)
            return sandbox !== undefined && visibleTo(caller, sandbox) ? [sandbox] : []
          }),
        ),
      extend,
      release,
    } satisfies AllocatorShape
  })

export const layer = (
  options: AllocatorOptions,
): Layer.Layer<Allocator, never, KubeClient.KubeClient | SandboxCache> =>
  Layer.effect(Allocator, make(options))
