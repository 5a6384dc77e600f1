import type { SandboxPool } from "@agent-sandbox/domain"
import { ObjectRef, type WatcherEvent } from "@agent-sandbox/kube"
import { Context, Effect, Layer, PubSub, type Scope, Stream } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import { ClusterState } from "../cluster/ClusterState.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as WarmQueue from "./WarmQueue.ts"

export interface WarmQueuesOptions {
  /** Salts this replica's claim order (see IdlePods): the replica's identity. */
  readonly replicaId: string
  /** Callers that may wait per pool before new ones get 429. */
  readonly waitCapacity: number
}

/** One warm queue per pool, made on first use and kept in step with the Pod watch. */
export interface WarmQueuesShape {
  readonly of: (poolKey: string) => Effect.Effect<WarmQueue.WarmQueue>
  /** Every queue this replica has, by pool key (for publishing its waiting callers). */
  readonly all: Effect.Effect<ReadonlyMap<string, WarmQueue.WarmQueue>>
  /** A caller started waiting for a Pod of the pool. */
  readonly callerWaits: (poolKey: string) => Effect.Effect<void>
  /** Pool keys of callers who start waiting, from now on (the pool controller scales up for them). */
  readonly waitingStarted: Effect.Effect<Stream.Stream<string>, never, Scope.Scope>
}

export class WarmQueues extends Context.Tag("@agent-sandbox/operator/WarmQueues")<
  WarmQueues,
  WarmQueuesShape
>() {}

const toWarmPod = (pod: SandboxPod.SandboxPod): WarmQueue.WarmPod => ({
  name: pod.name,
  resourceVersion: pod.resourceVersion,
  image: pod.image,
  containerName: pod.containerName,
  containerId: pod.containerId,
})

export const make = (
  options: WarmQueuesOptions,
): Effect.Effect<WarmQueuesShape, never, ClusterState | Scope.Scope> =>
  Effect.gen(function* () {
    const cluster = yield* ClusterState
    const queues = new Map<string, WarmQueue.WarmQueue>()
    const queueOf = (poolKey: string): WarmQueue.WarmQueue => {
      const known = queues.get(poolKey)
      if (known !== undefined) return known
      const made = WarmQueue.unsafeMake({ salt: options.replicaId, waitCapacity: options.waitCapacity })
      queues.set(poolKey, made)
      return made
    }

    /**
     * Keeps the pool's queue in step with what the watch says of one Pod. Only a Pod its pool owns
     * (ClusterState.isPoolsOwn) is offered; any other is taken out, and makes no queue.
     */
    const feed = (pod: Pod, gone: boolean): void => {
      const sandbox = SandboxPod.read(pod)
      const poolKey = SandboxPod.poolKeyOf(pod)
      if (sandbox === undefined || poolKey === undefined) return
      if (!gone && SandboxPod.isClaimable(sandbox) && cluster.isPoolsOwn(pod)) {
        WarmQueue.unsafeOffer(queueOf(poolKey), toWarmPod(sandbox))
        return
      }
      const queue = queues.get(poolKey)
      if (queue !== undefined) WarmQueue.unsafeRemove(queue, sandbox.name)
    }

    /** Feeds the pool's Pods again: the pool appeared, or changed (a new uid owns other Pods). */
    const refeedPool = (poolKey: string): void => {
      for (const pod of cluster.pods.store.unsafeByIndex("pool", poolKey)?.values() ?? []) feed(pod, false)
    }

    // The Pods fed so far, by key: a relist removes those it no longer lists.
    let fed = new Map<string, Pod>()
    let listing: Map<string, Pod> | undefined
    const onEvent = (event: WatcherEvent.WatcherEvent<Pod>): void => {
      switch (event._tag) {
        case "Init":
          listing = new Map()
          return
        case "InitApply":
          listing?.set(ObjectRef.keyOf(event.object), event.object)
          return
        case "InitDone": {
          const listed = listing ?? new Map<string, Pod>()
          listing = undefined
          for (const [key, pod] of fed) if (!listed.has(key)) feed(pod, true)
          fed = listed
          for (const pod of listed.values()) feed(pod, false)
          return
        }
        case "Apply":
          fed.set(ObjectRef.keyOf(event.object), event.object)
          feed(event.object, false)
          return
        case "Delete":
          fed.delete(ObjectRef.keyOf(event.object))
          feed(event.object, true)
          return
      }
    }
    yield* cluster.pods.listen((event) => Effect.sync(() => onEvent(event)), { replay: true })

    // A pool's events: its Pods may have come before it (the two watches list apart), and a pool
    // re-created under its name owns other Pods; a deleted pool's queue goes (callers still waiting on
    // it keep it until their deadline). Only a pool new to this replica, or with a new uid, feeds its
    // Pods again: a status or annotation write (several a second) costs nothing here.
    const poolUids = new Map<string, string>()
    const poolSeen = (pool: SandboxPool): void => {
      const key = ObjectRef.keyOf(pool)
      const uid = pool.metadata.uid ?? ""
      if (poolUids.get(key) === uid) return
      poolUids.set(key, uid)
      refeedPool(key)
    }
    const poolGone = (key: string) => {
      poolUids.delete(key)
      queues.delete(key)
    }
    const onPoolEvent = (event: WatcherEvent.WatcherEvent<SandboxPool>): Effect.Effect<void> => {
      switch (event._tag) {
        case "Apply":
          return Effect.sync(() => poolSeen(event.object))
        case "Delete":
          return Effect.sync(() => poolGone(ObjectRef.keyOf(event.object)))
        // A (re)list is in the store only now: pools deleted while the watch was away show no Delete.
        case "InitDone":
          return Effect.flatMap(cluster.pools.store.list, (listed) => {
            const keys = new Set(listed.map(ObjectRef.keyOf))
            for (const key of new Set([...queues.keys(), ...poolUids.keys()]))
              if (!keys.has(key)) poolGone(key)
            for (const pool of listed) poolSeen(pool)
            return Effect.void
          })
        default:
          return Effect.void
      }
    }
    yield* cluster.pools.listen(onPoolEvent, { replay: true })

    const waits = yield* PubSub.unbounded<string>()
    return {
      of: (poolKey) => Effect.sync(() => queueOf(poolKey)),
      all: Effect.sync((): ReadonlyMap<string, WarmQueue.WarmQueue> => new Map(queues)),
      callerWaits: (poolKey) => Effect.asVoid(PubSub.publish(waits, poolKey)),
      waitingStarted: Effect.map(PubSub.subscribe(waits), Stream.fromQueue),
    }
  })

export const layer = (options: WarmQueuesOptions): Layer.Layer<WarmQueues, never, ClusterState> =>
  Layer.scoped(WarmQueues, make(options))
