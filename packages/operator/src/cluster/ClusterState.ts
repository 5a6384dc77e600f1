import type { SandboxPool, SandboxTemplate } from "@agent-sandbox/domain"
import {
  Informer,
  type KubeClient,
  type KubeObject,
  ObjectRef,
  ResourceType,
  type Store,
  Watcher,
} from "@agent-sandbox/kube"
import { Context, Effect, Either, Layer, Option, type Scope, Stream } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as CachedPod from "../sandbox/CachedPod.ts"
import * as PodOwner from "../sandbox/PodOwner.ts"
import * as SandboxChange from "../sandbox/SandboxChange.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as OwnWrites from "./OwnWrites.ts"
import * as PoolLedger from "./PoolLedger.ts"
import { SandboxPoolResource, SandboxTemplateResource } from "./SandboxResources.ts"

export interface ClusterStateOptions {
  /** Watch this namespace only; all namespaces when undefined. */
  readonly namespace?: string | undefined
}

/** The Pod store's indexes: by pool key, and allocated Pods by sandbox id and by tenant. */
export type PodIndex = "pool" | "sandboxId" | "tenant"

/**
 * What this replica knows of the cluster, from three watches (pools, templates, and the Pods
 * labelled with a pool), each an informer: an indexed store and its events for any subscriber.
 * Every replica keeps it; it knows nothing of queues or reconciles, which subscribe to it. The Pods
 * it holds are projections (CachedPod.project): only the fields the operator reads.
 */
export interface ClusterStateShape {
  /** The one namespace watched, or undefined for all. */
  readonly namespace: string | undefined
  readonly pods: Informer.Informer<Pod, PodIndex>
  /** Indexed by the SandboxTemplate a pool refers to. */
  readonly pools: Informer.Informer<SandboxPool, "template">
  readonly templates: Informer.Informer<SandboxTemplate>
  /** Completes when all three watches have listed once. */
  readonly ready: Effect.Effect<void>
  /** The pool's Pods: those labelled with it whose controller ownerReference is it (PodOwner). */
  readonly podsOfPool: (poolKey: string) => Effect.Effect<ReadonlyArray<Pod>>
  /**
   * The pool's Pods as counts and the few worth naming (PoolLedger), kept per Pod event; undefined
   * when the watch shows none of the pool `uid`'s Pods. A synchronous read: do not keep it.
   */
  readonly ledgerOf: (poolKey: string, uid: string) => PoolLedger.PoolPods | undefined
  /** The pool's warm Pods as the ledger counts them, the Pod `podKey` left out (PoolLedger.idleBesides). */
  readonly idleBesides: (poolKey: string, uid: string, podKey: string) => number
  /** The Pod is its pool's (PodOwner.isOwnedBy the pool this replica knows by its label); pure read. */
  readonly isPoolsOwn: (pod: Pod) => boolean
  /** Some watched Pod, a pool's or not, carries this sandbox id (ids are minted unused). */
  readonly sandboxIdInUse: (sandboxId: string) => boolean
  /**
   * The Pod holding the sandbox: this replica's own latest write of it, else the watched one of its
   * pool's Pods; `Ended` when this replica ended it and its watch has not shown that yet;
   * `Ambiguous` when two of the pools' own Pods carry the id (never pick one).
   */
  readonly podOfSandbox: (sandboxId: string) => Effect.Effect<Option.Option<Pod> | "Ended" | "Ambiguous">
  /** Every Pod holding a sandbox, the same way (ambiguous ids left out). */
  readonly allocatedPods: Effect.Effect<ReadonlyArray<Pod>>
  /**
   * At least as many sandboxes as the tenant holds among `allocatedPods`, in O(1): the watched Pods
   * holding one of its sandboxes, plus every write of this replica its watch has not shown yet.
   */
  readonly heldAtMost: (tenant: string) => number
  /**
   * Records a Pod this replica just wrote (a claim, an extend) conditionally on `basedOn`, the
   * resourceVersion it wrote against, so lookups see it before the watch does (read-your-writes).
   */
  readonly rememberWrite: (pod: Pod, basedOn: string) => Effect.Effect<void>
  /** Records that this replica ended the sandbox on the Pod `podKey` with a write based on `basedOn`. */
  readonly rememberEnd: (sandboxId: string, podKey: string, basedOn: string) => Effect.Effect<void>
  /**
   * Follows one Pod, its cached version first, then every version the watch shows (undefined once
   * it is gone), until `check` decides. No polling: the watch wakes it.
   */
  readonly awaitPod: <A, E>(
    pod: { readonly namespace: string; readonly name: string },
    check: (pod: Pod | undefined) => Option.Option<Either.Either<A, E>>,
  ) => Effect.Effect<A, E>
  /** What happens to sandboxes from now on, as the Pod watch shows it. */
  readonly sandboxChanges: Effect.Effect<Stream.Stream<SandboxChange.SandboxChange>, never, Scope.Scope>
}

export class ClusterState extends Context.Tag("@agent-sandbox/operator/ClusterState")<
  ClusterState,
  ClusterStateShape
>() {}

const podIndexers = {
  pool: SandboxPod.poolKeyOf,
  sandboxId: (pod: Pod) => SandboxChange.held(pod)?.sandboxId,
  tenant: (pod: Pod) => SandboxChange.held(pod)?.tenant,
}

export const make = (
  options: ClusterStateOptions,
): Effect.Effect<ClusterStateShape, never, KubeClient.KubeClient | Scope.Scope> =>
  Effect.gen(function* () {
    const watch = options.namespace === undefined ? {} : { namespace: options.namespace }
    const context = yield* Effect.context<KubeClient.KubeClient>()
    /** A watch (restarts and relists counted for the metrics) into an informer. */
    const informer = <T extends KubeObject.KubeObject, I extends string = never>(
      resource: string,
      type: ResourceType.ResourceType<T>,
      options: Watcher.WatcherOptions<T>,
      indexers?: Store.Indexers<T, I>,
    ) =>
      Informer.fromEvents(
        Watcher.watcherResults(type, options).pipe(
          OperatorMetrics.countWatchRestarts(resource),
          Watcher.retryWithBackoff(type),
          OperatorMetrics.countRelists(resource),
          Stream.provideContext(context),
        ),
        indexers,
      )
    const pods = yield* informer(
      "pods",
      ResourceType.Pod,
      { ...watch, labelSelector: SandboxPod.Label.pool, transform: CachedPod.project },
      podIndexers,
    )
    const pools = yield* informer("sandboxpools", SandboxPoolResource, watch, {
      template: (pool: SandboxPool) => pool.spec.templateRef?.name,
    })
    const templates = yield* informer("sandboxtemplates", SandboxTemplateResource, {})

    const ownWrites = OwnWrites.make()
    const watchedVersion = (podKey: string) => pods.store.unsafeGet(podKey)?.metadata?.resourceVersion
    yield* pods.listen((event) => Effect.sync(() => OwnWrites.observe(ownWrites, event, watchedVersion)))
    const ledger = PoolLedger.make()
    let listing: Array<readonly [string, Pod]> | undefined
    yield* pods.listen(
      (event) =>
        Effect.sync(() => {
          switch (event._tag) {
            case "Apply":
              return PoolLedger.upsert(ledger, ObjectRef.keyOf(event.object), event.object)
            case "Delete":
              return PoolLedger.remove(ledger, ObjectRef.keyOf(event.object))
            case "Init":
              listing = []
              return
            case "InitApply":
              listing?.push([ObjectRef.keyOf(event.object), event.object])
              return
            // A (re)list is complete: file it anew (the only walk of every Pod).
            case "InitDone":
              PoolLedger.clear(ledger)
              for (const [key, pod] of listing ?? []) PoolLedger.upsert(ledger, key, pod)
              listing = undefined
              return
          }
        }),
      { replay: true },
    )

    const isPoolsOwn = (pod: Pod): boolean => {
      const poolKey = SandboxPod.poolKeyOf(pod)
      const pool = poolKey === undefined ? undefined : pools.store.unsafeGet(poolKey)
      return PodOwner.isOwnedBy(
        pod,
        pool === undefined ? undefined : { name: pool.metadata.name ?? "", uid: pool.metadata.uid ?? "" },
      )
    }

    /** The one pool-owned Pod carrying the id; Pods with the label and no such owner do not count. */
    const watchedOfSandbox = (sandboxId: string): Pod | "Ambiguous" | undefined => {
      let found: Pod | undefined
      for (const pod of pods.store.unsafeByIndex("sandboxId", sandboxId)?.values() ?? []) {
        if (!isPoolsOwn(pod)) continue
        if (found !== undefined) return "Ambiguous"
        found = pod
      }
      return found
    }

    return {
      namespace: options.namespace,
      pods,
      pools,
      templates,
      ready: Effect.all([pods.store.ready, pools.store.ready, templates.store.ready], { discard: true }),
      podsOfPool: (poolKey) =>
        Effect.map(pods.store.byIndex("pool", poolKey), (all) => all.filter(isPoolsOwn)),
      ledgerOf: (poolKey, uid) => PoolLedger.poolOf(ledger, poolKey, uid),
      idleBesides: (poolKey, uid, podKey) => PoolLedger.idleBesides(ledger, poolKey, uid, podKey),
      isPoolsOwn,
      sandboxIdInUse: (sandboxId) => (pods.store.unsafeByIndex("sandboxId", sandboxId)?.size ?? 0) > 0,
      podOfSandbox: (sandboxId) =>
        Effect.sync(() => {
          const written = OwnWrites.ofSandbox(ownWrites, sandboxId)
          if (written === null) return "Ended"
          const watched = watchedOfSandbox(sandboxId)
          // Two Pods of the pools claim the id: this replica's own write does not settle which is real.
          if (watched === "Ambiguous") return "Ambiguous"
          return Option.fromNullable(written ?? watched)
        }),
      allocatedPods: Effect.sync(() => {
        const found = new Map<string, Pod>()
        const ambiguous = new Set<string>()
        for (const id of pods.store.unsafeIndexValues("sandboxId")) {
          const pod = watchedOfSandbox(id)
          if (pod === "Ambiguous") ambiguous.add(id)
          // A Pod being deleted holds an ended sandbox (a release that deletes, an expiry): not listed,
          // not counted against its tenant's quota, as a lookup does not find it (SandboxLookup).
          else if (pod !== undefined && pod.metadata?.deletionTimestamp == null) found.set(id, pod)
        }
        for (const [id, pod] of OwnWrites.entries(ownWrites)) {
          if (pod === null || ambiguous.has(id)) found.delete(id)
          else found.set(id, pod)
        }
        return Array.from(found.values())
      }),
      heldAtMost: (tenant) =>
        (pods.store.unsafeByIndex("tenant", tenant)?.size ?? 0) + OwnWrites.size(ownWrites),
      rememberWrite: (pod, basedOn) =>
        Effect.sync(() => {
          OwnWrites.remember(ownWrites, CachedPod.project(pod), basedOn, watchedVersion(ObjectRef.keyOf(pod)))
        }),
      rememberEnd: (sandboxId, podKey, basedOn) =>
        Effect.sync(() =>
          OwnWrites.rememberEnd(ownWrites, sandboxId, podKey, basedOn, watchedVersion(podKey)),
        ),
      awaitPod: (target, check) =>
        Effect.scoped(
          Effect.gen(function* () {
            const key = ObjectRef.key(ObjectRef.make(target.name, target.namespace))
            // Subscribed first, then the stored version: no version can fall in between.
            const later = yield* pods.subscribe()
            const versions = Stream.concat(
              Stream.make(pods.store.unsafeGet(key)),
              later.pipe(
                Stream.filterMap((event) => {
                  switch (event._tag) {
                    case "Apply":
                    case "Delete":
                      return ObjectRef.keyOf(event.object) === key
                        ? Option.some(event._tag === "Apply" ? event.object : undefined)
                        : Option.none()
                    // After a relist, the listed version (or none): versions may have been missed.
                    case "InitDone":
                      return Option.some(pods.store.unsafeGet(key))
                    default:
                      return Option.none()
                  }
                }),
              ),
            )
            const decided = yield* versions.pipe(
              Stream.filterMap(check),
              Stream.runHead,
              Effect.flatMap(Option.match({ onNone: () => Effect.never, onSome: Effect.succeed })),
            )
            return yield* Either.match(decided, { onLeft: Effect.fail, onRight: Effect.succeed })
          }),
        ),
      sandboxChanges: Effect.map(pods.subscribe({ replay: true }), (events) =>
        Stream.suspend(() => {
          // What each Pod held as last seen; a relist's Init .. InitDone compares anew.
          let held = new Map<string, SandboxPod.SandboxPod>()
          let relisted: Map<string, Pod> | undefined
          let replaying = true
          return events.pipe(
            Stream.mapConcat((event): ReadonlyArray<SandboxChange.SandboxChange> => {
              switch (event._tag) {
                case "Init":
                  relisted = new Map()
                  return []
                case "InitApply":
                  relisted?.set(ObjectRef.keyOf(event.object), event.object)
                  return []
                case "InitDone": {
                  const listed = relisted ?? new Map()
                  relisted = undefined
                  const changes: Array<SandboxChange.SandboxChange> = []
                  const next = new Map<string, SandboxPod.SandboxPod>()
                  for (const [key, pod] of listed) {
                    const now = SandboxChange.held(pod)
                    if (now !== undefined) next.set(key, now)
                    if (!replaying) changes.push(...SandboxChange.between(held.get(key), pod))
                  }
                  if (!replaying) {
                    for (const [key, before] of held) {
                      if (!listed.has(key)) changes.push(...SandboxChange.between(before, undefined))
                    }
                  }
                  // The first list only says where things stand: changes are what comes after.
                  replaying = false
                  held = next
                  return changes
                }
                case "Apply":
                case "Delete": {
                  const key = ObjectRef.keyOf(event.object)
                  const pod = event._tag === "Apply" ? event.object : undefined
                  const changes = SandboxChange.between(held.get(key), pod)
                  const now = SandboxChange.held(pod)
                  if (now === undefined) held.delete(key)
                  else held.set(key, now)
                  return changes
                }
              }
            }),
          )
        }),
      ),
    } satisfies ClusterStateShape
  })

export const layer = (
  options: ClusterStateOptions,
): Layer.Layer<ClusterState, never, KubeClient.KubeClient> => Layer.scoped(ClusterState, make(options))
