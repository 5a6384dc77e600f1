/**
 * The operator's one front door: everything REST, E2B, RPC and later front ends do with sandboxes
 * goes through this service. Nothing else of the operator is exported to them.
 */
import type {
  ClusterUnavailable,
  InvalidRequest,
  SandboxNotFound,
  SandboxPool,
  SandboxTemplate,
} from "@agent-sandbox/domain"
import { KubeClient } from "@agent-sandbox/kube"
import { Context, Effect, Layer, Option, type Scope, Stream } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as Allocate from "./allocation/Allocate.ts"
import type { AllocationError, AllocationRequest } from "./allocation/AllocationRequest.ts"
import * as Caller from "./allocation/Caller.ts"
import * as Extend from "./allocation/Extend.ts"
import type { PodStateScrubber } from "./allocation/PodStateScrubber.ts"
import * as Recycler from "./allocation/Recycler.ts"
import * as SandboxLookup from "./allocation/SandboxLookup.ts"
import * as WarmQueue from "./allocation/WarmQueue.ts"
import { WarmQueues } from "./allocation/WarmQueues.ts"
import { ClusterState } from "./cluster/ClusterState.ts"
import * as OperatorMetrics from "./metrics/OperatorMetrics.ts"
import * as SandboxChange from "./sandbox/SandboxChange.ts"
import * as SandboxPod from "./sandbox/SandboxPod.ts"

export type { AllocationError, AllocationRequest } from "./allocation/AllocationRequest.ts"
export type { Caller } from "./allocation/Caller.ts"
export type { SandboxPod } from "./sandbox/SandboxPod.ts"

/** An allocated sandbox: the operator's reading of its Pod, and the Pod as the cache keeps it. */
export interface AllocatedSandbox {
  readonly sandbox: SandboxPod.SandboxPod
  /** The Pod as the cache keeps it (CachedPod.project), or as the API server answered a write. */
  readonly pod: Pod
}

/** What happens to sandboxes, as this replica's watch sees it. */
export type SandboxEvent =
  | { readonly _tag: "Allocated"; readonly sandbox: AllocatedSandbox }
  /** Its Pod changed: an extended expiry, Ready after an image switch, a failure. */
  | { readonly _tag: "Updated"; readonly sandbox: AllocatedSandbox }
  /** Released, expired or its Pod gone; the last reading it had. */
  | { readonly _tag: "Ended"; readonly sandbox: SandboxPod.SandboxPod }

export interface SandboxesShape {
  /** Claims one warm Pod with one conditional write; waits (fairly, bounded) when none is idle. */
  readonly allocate: (request: AllocationRequest) => Effect.Effect<AllocatedSandbox, AllocationError>
  /** `count` sandboxes, all or none: on failure (or interruption) the ones claimed are released. */
  readonly allocateBatch: (
    request: AllocationRequest,
    count: number,
  ) => Effect.Effect<ReadonlyArray<AllocatedSandbox>, AllocationError>
  /**
   * The caller's sandbox (an admin sees every tenant's): this replica's cache, then the API server,
   * since another replica's claim may not have reached this replica's watch yet.
   */
  readonly get: (
    caller: Caller.Caller,
    sandboxId: string,
  ) => Effect.Effect<AllocatedSandbox, SandboxNotFound | ClusterUnavailable>
  /** Any tenant's sandbox by id, the same way as `get`: for front ends that check their own credentials. */
  readonly lookup: (sandboxId: string) => Effect.Effect<Option.Option<AllocatedSandbox>, ClusterUnavailable>
  /**
   * Reads the sandbox's Pod from the API server (not the cache) and fails unless it still holds this
   * sandbox: for the data plane before it runs anything in the Pod, since a lagging watch may still
   * show a Pod that another tenant holds now.
   */
  readonly confirm: (
    sandbox: AllocatedSandbox,
  ) => Effect.Effect<AllocatedSandbox, SandboxNotFound | ClusterUnavailable>
  /** The caller's sandboxes, as this replica's cache has them. */
  readonly list: (caller: Caller.Caller) => Effect.Effect<ReadonlyArray<AllocatedSandbox>>
  /**
   * At least as many sandboxes as `list` would give the tenant, without walking them (O(1)): a quota
   * check that has room for this bound needs no exact count.
   */
  readonly heldAtMost: (tenant: string) => Effect.Effect<number>
  /** Sets the sandbox to expire `timeoutSeconds` from now, within the pool's maximum. */
  readonly extend: (
    caller: Caller.Caller,
    sandboxId: string,
    timeoutSeconds: number,
  ) => Effect.Effect<AllocatedSandbox, SandboxNotFound | InvalidRequest | ClusterUnavailable>
  /** Ends the sandbox: its Pod is recycled in place or deleted, per the pool's recycle policy. */
  readonly release: (
    caller: Caller.Caller,
    sandboxId: string,
  ) => Effect.Effect<void, SandboxNotFound | ClusterUnavailable>
  /**
   * The caller's sandboxes' lifecycle from the moment this is run (the stream may be read later
   * without missing anything in between).
   */
  readonly events: (caller: Caller.Caller) => Effect.Effect<Stream.Stream<SandboxEvent>, never, Scope.Scope>
  readonly pool: (namespace: string, name: string) => Effect.Effect<Option.Option<SandboxPool>>
  readonly pools: Effect.Effect<ReadonlyArray<SandboxPool>>
  readonly templates: Effect.Effect<ReadonlyArray<SandboxTemplate>>
  /** Callers waiting on this replica for a Pod, by pool key ("namespace/name"). */
  readonly waiting: Effect.Effect<ReadonlyMap<string, number>>
  /** Completes once this replica's watches have listed once. */
  readonly ready: Effect.Effect<void>
}

export class Sandboxes extends Context.Tag("@agent-sandbox/operator/Sandboxes")<
  Sandboxes,
  SandboxesShape
>() {}

/** Who sees every tenant's sandboxes (for front ends that authenticate by other means, e.g. a token). */
export const adminCaller: Caller.Caller = Caller.admin

/** The env of the runtime the sandbox was claimed with, for a data plane to give its processes. */
export const runtimeEnvOf: (sandbox: SandboxPod.SandboxPod) => Readonly<Record<string, string>> =
  SandboxPod.runtimeEnvOf

export interface SandboxesOptions extends Allocate.AllocateOptions {
  /** API-server lookups of ids the cache does not know, in flight at once (SandboxLookup). */
  readonly apiLookups?: number | undefined
}

const allocated = ([sandbox, pod]: readonly [SandboxPod.SandboxPod, Pod]): AllocatedSandbox => ({
  sandbox,
  pod,
})

export const make = (options: SandboxesOptions) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const cluster = yield* ClusterState
    const warmQueues = yield* WarmQueues
    const recycler = yield* Recycler.make
    const allocate = Allocate.make(options, { cluster, warmQueues, recycler, client })
    const { lookup, find, confirm } = SandboxLookup.make(cluster, client, {
      apiLookups: options.apiLookups ?? SandboxLookup.defaultApiLookups,
    })
    const extend = Extend.make(cluster, client, find)

    const release = (caller: Caller.Caller, sandboxId: string) =>
      Effect.flatMap(find(caller, sandboxId), ([sandbox, pod]) =>
        recycler.end(pod, sandboxId).pipe(
          Effect.tap(() =>
            OperatorMetrics.releases.inc({ namespace: sandbox.namespace, pool: sandbox.pool }),
          ),
          Effect.catchAll((error) => Effect.flip(Allocate.clusterUnavailableLogged(error))),
          Effect.flatMap((outcome) =>
            outcome._tag === "Gone" ? Effect.fail(SandboxLookup.notFound(sandboxId)) : Effect.void,
          ),
        ),
      )

    const allocateBatch = (request: AllocationRequest, count: number) =>
      Effect.suspend(() => {
        // Every sandbox claimed so far, recorded as its claim returns: whatever ends the batch early
        // (one that fails, or the caller going away) releases them instead of leaving them to expire.
        const claimed: Array<AllocatedSandbox> = []
        const one = Effect.uninterruptibleMask((restore) =>
          restore(allocate(request)).pipe(
            Effect.tap((made) => Effect.sync(() => claimed.push(allocated(made)))),
          ),
        )
        return Effect.all(
          Array.from({ length: count }, () => Effect.either(one)),
          { concurrency: "unbounded" },
        ).pipe(
          Effect.flatMap((results) => {
            const failure = results.find((r) => r._tag === "Left")
            return failure === undefined
              ? Effect.succeed<ReadonlyArray<AllocatedSandbox>>(claimed.slice())
              : Effect.zipRight(releaseAll(claimed), Effect.fail(failure.left))
          }),
          Effect.onInterrupt(() => releaseAll(claimed)),
        )
      })

    const releaseAll = (sandboxes: ReadonlyArray<AllocatedSandbox>) =>
      Effect.forEach(
        sandboxes,
        ({ sandbox, pod }) => Effect.ignore(recycler.end(pod, sandbox.sandboxId ?? "")),
        {
          concurrency: 16,
          discard: true,
        },
      )

    return {
      allocate: (request) =>
        OperatorMetrics.timeAllocation(request, Effect.map(allocate(request), allocated)),
      allocateBatch,
      get: (caller, sandboxId) => Effect.map(find(caller, sandboxId), allocated),
      lookup: (sandboxId) => Effect.map(lookup(sandboxId), Option.map(allocated)),
      confirm: ({ sandbox, pod }) => Effect.map(confirm(sandbox, pod), allocated),
      list: (caller) =>
        Effect.map(cluster.allocatedPods, (pods) =>
          pods.flatMap((pod) => {
            const sandbox = SandboxChange.held(pod)
            return sandbox !== undefined && Caller.canSee(caller, sandbox) ? [{ sandbox, pod }] : []
          }),
        ),
      heldAtMost: (tenant) => Effect.sync(() => cluster.heldAtMost(tenant)),
      extend: (caller, sandboxId, timeoutSeconds) =>
        Effect.map(extend(caller, sandboxId, timeoutSeconds), allocated),
      release,
      events: (caller) =>
        Effect.map(cluster.sandboxChanges, (changes) =>
          changes.pipe(
            // An ended sandbox's last reading is still allocated to its tenant.
            Stream.filter((change) => Caller.canSee(caller, change.sandbox)),
            Stream.map(
              (change): SandboxEvent =>
                change._tag === "Ended"
                  ? { _tag: "Ended", sandbox: change.sandbox }
                  : { _tag: change._tag, sandbox: { sandbox: change.sandbox, pod: change.pod } },
            ),
          ),
        ),
      pool: (namespace, name) => cluster.pools.store.get(SandboxPod.poolKey(namespace, name)),
      pools: cluster.pools.store.list,
      templates: cluster.templates.store.list,
      waiting: Effect.flatMap(warmQueues.all, (queues) =>
        Effect.map(
          Effect.forEach(queues, ([poolKey, queue]) =>
            Effect.map(WarmQueue.waitingCount(queue), (n) => [poolKey, n] as const),
          ),
          (counts) => new Map(counts),
        ),
      ),
      ready: cluster.ready,
    } satisfies SandboxesShape
  })

export const layer = (
  options: SandboxesOptions,
): Layer.Layer<Sandboxes, never, KubeClient.KubeClient | ClusterState | WarmQueues | PodStateScrubber> =>
  Layer.effect(Sandboxes, make(options))
