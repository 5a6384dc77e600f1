import type { SandboxPool, SandboxTemplate } from "@agent-sandbox/domain"
import {
  type KubeClient,
  ObjectRef,
  ResourceType,
  Store,
  Watcher,
  type WatcherEvent,
} from "@agent-sandbox/kube"
import { Context, Duration, Effect, Either, Layer, Option, PubSub, Queue, type Scope, Stream } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as WarmQueue from "../allocation/WarmQueue.ts"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as CreateExpectations from "../pool/CreateExpectations.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as CachedPod from "./CachedPod.ts"
import * as PodIndex from "./PodIndex.ts"
import { SandboxPoolResource, SandboxTemplateResource } from "./SandboxResources.ts"

export interface SandboxCacheOptions {
  /** Watch this namespace only; all namespaces when undefined. */
  readonly namespace?: string | undefined
  /** Salts this replica's claim order (see IdlePods); the replica's identity. */
  readonly replicaId: string
  /** Callers that may wait per pool before new ones get 429. */
  readonly waitCapacity: number
}

/**
 * What this replica knows of the cluster, from three watches (pools, templates, and the Pods
 * labelled with a pool): reflector stores, Pod indexes, one warm queue per pool fed by the Pod
 * watch, and a stream of pools to reconcile. Every replica runs it; only the leader reconciles.
 * The Pods it hands out are projections (CachedPod.project): only the fields the operator reads.
 */
export interface SandboxCacheShape {
  /** The one namespace watched, or undefined for all. */
  readonly namespace: string | undefined
  readonly pools: Store.Store<SandboxPool>
  readonly templates: Store.Store<SandboxTemplate>
  /** Completes when all three watches have listed once. */
  readonly ready: Effect.Effect<void>
  readonly podsOfPool: (poolKey: string) => Effect.Effect<ReadonlyArray<Pod>>
  readonly podOfSandbox: (sandboxId: string) => Effect.Effect<Option.Option<Pod>>
  readonly allocatedPods: Effect.Effect<ReadonlyArray<Pod>>
  readonly warmQueue: (poolKey: string) => Effect.Effect<WarmQueue.WarmQueue>
  /** Every warm queue this replica has, by pool key (for publishing its waiting callers). */
  readonly warmQueues: Effect.Effect<ReadonlyMap<string, WarmQueue.WarmQueue>>
  /** Pool refs to reconcile, from now on (every pool once first). */
  readonly poolTriggers: Effect.Effect<Stream.Stream<ObjectRef.ObjectRef>, never, Scope.Scope>
  /** Asks for a pool's reconcile (e.g. callers started waiting). */
  readonly triggerPool: (ref: ObjectRef.ObjectRef) => Effect.Effect<void>
  /**
   * Follows one Pod of a pool, its cached version first, then every version the watch shows
   * (undefined once it is gone), until `check` decides. No polling: the watch wakes it.
   */
  readonly awaitPod: <A, E>(
    pod: { readonly namespace: string; readonly name: string; readonly pool: string },
    check: (pod: Pod | undefined) => Option.Option<Either.Either<A, E>>,
  ) => Effect.Effect<A, E>
  /**
   * Records a Pod this replica just claimed, so lookups see it before its watch event arrives
   * (read-your-writes); the watch's version replaces it.
   */
  readonly rememberClaim: (pod: Pod) => Effect.Effect<void>
  /** Pods this replica created that the Pod watch has not shown yet; the watch lowers them. */
  readonly createExpectations: CreateExpectations.CreateExpectations
}

export class SandboxCache extends Context.Tag("@agent-sandbox/operator/SandboxCache")<
  SandboxCache,
  SandboxCacheShape
>() {}

const toWarmPod = (pod: SandboxPod.SandboxPod): WarmQueue.WarmPod => ({
  name: pod.name,
  resourceVersion: pod.resourceVersion,
  image: pod.image,
  containerName: pod.containerName,
  containerId: pod.containerId,
})

/** How long Pod events gather before their pools are triggered (see triggerOwner). */
const poolTriggerBatch = Duration.millis(50)

export const make = (
  options: SandboxCacheOptions,
): Effect.Effect<SandboxCacheShape, never, KubeClient.KubeClient | Scope.Scope> =>
  Effect.gen(function* () {
    const poolWriter = yield* Store.makeWriter<SandboxPool>()
    const templateWriter = yield* Store.makeWriter<SandboxTemplate>()
    const triggers = yield* PubSub.unbounded<ObjectRef.ObjectRef>()
    let index = PodIndex.make()
    const createExpectations = CreateExpectations.make()
    /** The watch showed this Pod (in any state): its create, if ours, is no longer on its way. */
    const seen = (pod: Pod) => {
      const poolKey = PodIndex.poolKeyOf(pod)
      if (poolKey !== undefined)
        CreateExpectations.lower(createExpectations, poolKey, pod.metadata?.name ?? "")
    }
    let relisting: PodIndex.PodIndex | undefined
    /** This replica's own writes (claims, extends) the watch has not shown yet, by sandbox id. */
    const recentClaims = new Map<string, Pod>()
    /** The same, sandbox id by Pod key: the watch forgets them by Pod. */
    const recentClaimIds = new Map<string, string>()
    let podsListed = false
    const podsReady = yield* Effect.makeLatch(false)
    /** Callers following a Pod (awaitPod), by Pod key: told of each version the watch shows. */
    const podFollowers = new Map<string, Set<Queue.Queue<Pod | undefined>>>()
    const tellFollowers = (key: string, pod: Pod | undefined) => {
      const followers = podFollowers.get(key)
      return followers === undefined
        ? Effect.void
        : Effect.forEach(followers, (queue) => Queue.offer(queue, pod), { discard: true })
    }
    const cachedPod = (namespace: string, pool: string, name: string) =>
      index.byPool.get(PodIndex.poolKey(namespace, pool))?.get(name)

    /**
     * One warm queue per pool, made on first use. Making one is pure (a few transactional refs), so
     * two fibers racing to make the same queue need no lock: the first one stored wins.
     */
    const queues = new Map<string, WarmQueue.WarmQueue>()
    const warmQueue = (poolKey: string): Effect.Effect<WarmQueue.WarmQueue> => {
      const known = queues.get(poolKey)
      if (known !== undefined) return Effect.succeed(known)
      return Effect.map(
        WarmQueue.make({ salt: options.replicaId, waitCapacity: options.waitCapacity }),
        (made) => {
          const stored = queues.get(poolKey)
          if (stored !== undefined) return stored
          queues.set(poolKey, made)
          return made
        },
      )
    }

    /** Keeps the pool's warm queue in step with what the watch says of one Pod. */
    const feedQueue = (pod: Pod, deleted: boolean) => {
      const sandbox = SandboxPod.read(pod)
      const poolKey = PodIndex.poolKeyOf(pod)
      if (sandbox === undefined || poolKey === undefined) return Effect.void
      return Effect.flatMap(warmQueue(poolKey), (queue) =>
        !deleted && SandboxPod.isClaimable(sandbox)
          ? WarmQueue.offer(queue, toWarmPod(sandbox))
          : WarmQueue.remove(queue, sandbox.name),
      )
    }

    const trigger = (ref: ObjectRef.ObjectRef) => PubSub.publish(triggers, ref)
    // Pod events mark their pool; the marked pools are triggered together once per batch window. A
    // burst of claims is one Pod event per claim, and each trigger costs the reconcile runner more
    // than the event itself, while the runner collapses a pool's triggers into one run anyway.
    const markedPools = new Set<string>()
    const poolsMarked = yield* Effect.makeLatch(false)
    const triggerOwner = (pod: Pod) =>
      Effect.sync(() => {
        const pool = pod.metadata?.labels?.[SandboxPod.Label.pool]
        if (pool === undefined) return
        markedPools.add(ObjectRef.key(ObjectRef.make(pool, pod.metadata?.namespace)))
        poolsMarked.unsafeOpen()
      })
    yield* Effect.gen(function* () {
      while (true) {
        yield* poolsMarked.await
        yield* Effect.sleep(poolTriggerBatch)
        poolsMarked.unsafeClose()
        const keys = [...markedPools]
        markedPools.clear()
        for (const key of keys) yield* trigger(ObjectRef.parseKey(key))
      }
    }).pipe(Effect.forkScoped)

    const onPodEvent = (event: WatcherEvent.WatcherEvent<Pod>): Effect.Effect<void> =>
      Effect.suspend(() => {
        switch (event._tag) {
          case "Init":
            relisting = PodIndex.make()
            return Effect.void
          case "InitApply":
            relisting ??= PodIndex.make()
            PodIndex.upsert(relisting, event.object)
            seen(event.object)
            return Effect.void
          case "InitDone":
            return Effect.gen(function* () {
              const previous = index
              index = relisting ?? PodIndex.make()
              relisting = undefined
              recentClaims.clear()
              recentClaimIds.clear()
              // Pods gone while the watch was away leave their queues; every listed Pod is (re)offered.
              for (const [poolKey, pods] of previous.byPool) {
                for (const [name, pod] of pods) {
                  if (!index.byPool.get(poolKey)?.has(name)) yield* feedQueue(pod, true)
                }
              }
              for (const pods of index.byPool.values()) {
                for (const pod of pods.values()) yield* feedQueue(pod, false)
              }
              for (const poolKey of new Set([...previous.byPool.keys(), ...index.byPool.keys()])) {
                yield* trigger(ObjectRef.parseKey(poolKey))
              }
              // Followers may have missed versions while the watch was away: tell them the listed one.
              for (const key of podFollowers.keys()) {
                const ref = ObjectRef.parseKey(key)
                let found: Pod | undefined
                for (const pods of index.byPool.values()) {
                  const pod = pods.get(ref.name)
                  if (pod !== undefined && pod.metadata?.namespace === ref.namespace) found = pod
                }
                yield* tellFollowers(key, found)
              }
              if (!podsListed) {
                podsListed = true
                yield* podsReady.open
              }
            })
          case "Apply":
            PodIndex.upsert(index, event.object)
            seen(event.object)
            forgetClaim(event.object)
            return Effect.all(
              [
                feedQueue(event.object, false),
                triggerOwner(event.object),
                tellFollowers(ObjectRef.keyOf(event.object), event.object),
              ],
              { discard: true },
            )
          case "Delete":
            PodIndex.remove(index, event.object)
            seen(event.object)
            forgetClaim(event.object)
            return Effect.all(
              [
                feedQueue(event.object, true),
                triggerOwner(event.object),
                tellFollowers(ObjectRef.keyOf(event.object), undefined),
              ],
              { discard: true },
            )
        }
      })

    const forgetClaim = (pod: Pod) => {
      const key = ObjectRef.keyOf(pod)
      const id = recentClaimIds.get(key)
      if (id === undefined) return
      recentClaimIds.delete(key)
      recentClaims.delete(id)
    }

    /** Whether the watch has shown this version of the Pod, or a later one, already. */
    const indexedSinceWrite = (pod: Pod): boolean => {
      const pool = pod.metadata?.labels?.[SandboxPod.Label.pool]
      const indexed =
        pool === undefined
          ? undefined
          : cachedPod(pod.metadata?.namespace ?? "", pool, pod.metadata?.name ?? "")?.metadata
              ?.resourceVersion
      const written = pod.metadata?.resourceVersion
      if (indexed === undefined || written === undefined) return false
      // Opaque strings to clients, but etcd's are increasing integers: newer wins when both are.
      return (
        indexed === written ||
        (/^\d+$/.test(indexed) && /^\d+$/.test(written) && BigInt(indexed) > BigInt(written))
      )
    }

    const watchConfig = options.namespace === undefined ? {} : { namespace: options.namespace }

    yield* Watcher.watcherWithBackoff(ResourceType.Pod, {
      ...watchConfig,
      labelSelector: SandboxPod.Label.pool,
      transform: CachedPod.project,
    }).pipe(OperatorMetrics.countRelists("pods"), Stream.runForEach(onPodEvent), Effect.forkScoped)
    yield* Watcher.watcherWithBackoff(SandboxPoolResource, watchConfig).pipe(
      OperatorMetrics.countRelists("sandboxpools"),
      Stream.tap(poolWriter.apply),
      Stream.runForEach((event) => {
        const pool =
          event._tag === "Apply" || event._tag === "Delete" || event._tag === "InitApply"
            ? event.object
            : undefined
        return pool === undefined ? Effect.void : trigger(ObjectRef.fromObject(pool))
      }),
      Effect.forkScoped,
    )
    yield* Watcher.watcherWithBackoff(SandboxTemplateResource).pipe(
      OperatorMetrics.countRelists("sandboxtemplates"),
      Stream.tap(templateWriter.apply),
      Stream.runForEach((event) => {
        if (event._tag !== "Apply" && event._tag !== "Delete") return Effect.void
        const name = event.object.metadata?.name
        return Effect.flatMap(poolWriter.store.list, (pools) =>
          Effect.forEach(
            pools.filter((p) => p.spec.templateRef?.name === name),
            (p) => trigger(ObjectRef.fromObject(p)),
            { discard: true },
          ),
        )
      }),
      Effect.forkScoped,
    )

    return {
      namespace: options.namespace,
      pools: poolWriter.store,
      templates: templateWriter.store,
      ready: Effect.all([poolWriter.store.ready, templateWriter.store.ready, podsReady.await], {
        discard: true,
      }),
      podsOfPool: (poolKey) => Effect.sync(() => Array.from(index.byPool.get(poolKey)?.values() ?? [])),
      // A write of this replica (a claim, an extend) is newer than the indexed version until the
      // watch shows the Pod again (which forgets it): read your own writes.
      podOfSandbox: (sandboxId) =>
        Effect.sync(() =>
          Option.fromNullable(recentClaims.get(sandboxId) ?? index.bySandboxId.get(sandboxId)),
        ),
      allocatedPods: Effect.sync(() => {
        const pods = new Map<string, Pod>()
        for (const [id, pod] of index.bySandboxId) pods.set(id, pod)
        for (const [id, pod] of recentClaims) pods.set(id, pod)
        return Array.from(pods.values())
      }),
      warmQueue,
      warmQueues: Effect.sync((): ReadonlyMap<string, WarmQueue.WarmQueue> => new Map(queues)),
      poolTriggers: Effect.gen(function* () {
        const subscription: Queue.Dequeue<ObjectRef.ObjectRef> = yield* PubSub.subscribe(triggers)
        const existing = yield* poolWriter.store.list
        return Stream.concat(
          Stream.fromIterable(existing.map(ObjectRef.fromObject)),
          Stream.fromQueue(subscription),
        )
      }),
      triggerPool: (ref) => Effect.asVoid(trigger(ref)),
      awaitPod: (pod, check) =>
        Effect.scoped(
          Effect.gen(function* () {
            const key = ObjectRef.key(ObjectRef.make(pod.name, pod.namespace))
            const queue = yield* Effect.acquireRelease(Queue.unbounded<Pod | undefined>(), (queue) =>
              Effect.sync(() => {
                const followers = podFollowers.get(key)
                followers?.delete(queue)
                if (followers?.size === 0) podFollowers.delete(key)
              }).pipe(Effect.zipRight(Queue.shutdown(queue))),
            )
            const followers = podFollowers.get(key) ?? new Set()
            followers.add(queue)
            podFollowers.set(key, followers)
            // Registered first, then the cached version: no version can fall in between.
            let next: Pod | undefined = cachedPod(pod.namespace, pod.pool, pod.name)
            while (true) {
              const decided = check(next)
              if (Option.isSome(decided)) {
                return yield* Either.match(decided.value, { onLeft: Effect.fail, onRight: Effect.succeed })
              }
              next = yield* Queue.take(queue)
            }
          }),
        ),
      rememberClaim: (pod) =>
        Effect.sync(() => {
          const id = pod.metadata?.labels?.[SandboxPod.Label.sandboxId]
          // The watch may have shown this version before the write's own answer arrived.
          if (id === undefined || indexedSinceWrite(pod)) return
          forgetClaim(pod)
          recentClaims.set(id, CachedPod.project(pod))
          recentClaimIds.set(ObjectRef.keyOf(pod), id)
        }),
      createExpectations,
    }
  })

export const layer = (
  options: SandboxCacheOptions,
): Layer.Layer<SandboxCache, never, KubeClient.KubeClient> => Layer.scoped(SandboxCache, make(options))
