import type { SandboxPool, SandboxPoolStatus } from "@agent-sandbox/domain"
import { Action, KubeClient, KubeError, ObjectRef, Patch, ResourceType } from "@agent-sandbox/kube"
import { Clock, Effect, Either, Exit, Option } from "effect"
import { PodStateScrubber } from "../allocation/PodStateScrubber.ts"
import * as PoolDemand from "../allocation/PoolDemand.ts"
import * as Recycler from "../allocation/Recycler.ts"
import * as WarmQueue from "../allocation/WarmQueue.ts"
import { WarmQueues } from "../allocation/WarmQueues.ts"
import { ClusterState } from "../cluster/ClusterState.ts"
import * as PoolLedger from "../cluster/PoolLedger.ts"
import { SandboxPoolResource } from "../cluster/SandboxResources.ts"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as InlineTemplatePolicy from "../sandbox/InlineTemplatePolicy.ts"
import * as PodFactory from "../sandbox/PodFactory.ts"
import * as PodUpdate from "../sandbox/PodUpdate.ts"
import * as PoolTemplate from "../sandbox/PoolTemplate.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as CreateExpectations from "./CreateExpectations.ts"
import * as PoolFacts from "./PoolFacts.ts"
import * as PoolNetworkPolicy from "./PoolNetworkPolicy.ts"
import * as PoolPlan from "./PoolPlan.ts"
import * as PoolStatus from "./PoolStatus.ts"

export interface PoolReconcilerOptions {
  /** This replica: its own waiting callers are counted live, not from its published count. */
  readonly replicaId: string
  /** Creates this replica sent that the Pod watch has not shown yet (lowered by the controller). */
  readonly expectations: CreateExpectations.CreateExpectations
}

/** An expiry or a failed start ends a sandbox only while the Pod, read again after a conflict, still says so. */
const stillDue: Record<PoolPlan.PoolPlan["end"][number]["reason"], Recycler.StillDue> = {
  Expired: SandboxPod.hasExpired,
  StartupTimeout: (sandbox) => sandbox.restarting?.reason === "allocate",
}

/** A write the watch never confirms (it failed silently, or the Pod vanished) stops counting after this. */
const expectationTtlMs = CreateExpectations.defaultTtlMs

/**
 * Reconciles one SandboxPool, level-based: read the pool, its template, its Pods and its waiting
 * callers; plan (PoolPlan, pure); write the plan's creates, deletes, in-place updates and ends;
 * write the status (PoolStatus, pure). Returns when to look again.
 */
export const make = (options: PoolReconcilerOptions) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const cluster = yield* ClusterState
    const warmQueues = yield* WarmQueues
    const recycler = yield* Recycler.make
    const scrubber = yield* PodStateScrubber
    const selfDemandKey = PoolDemand.annotationKey(options.replicaId)
    const expectations = options.expectations
    /** In-place updates written that the watch has not shown yet, per pool: Pod name → when. */
    const updatesWritten = new Map<string, Map<string, number>>()
    const lastActivity = new Map<string, number>()
    /** The NetworkPolicy last written per pool (JSON, "" for none), so a reconcile writes only a change. */
    const networkWritten = new Map<string, string>()

    /**
     * Server-side applies the pool's NetworkPolicy when `spec.network` asks for one, or deletes it
     * when it no longer does (also once per pool after a start, as its removal may have been
     * missed; a NotFound or an operator without the right, when it never wrote one, is fine).
     */
    const syncNetwork = (pool: SandboxPool, poolKey: string) =>
      Effect.gen(function* () {
        const policy = PoolNetworkPolicy.wanted(pool)
        const fingerprint = policy === undefined ? "" : JSON.stringify(policy)
        if (networkWritten.get(poolKey) === fingerprint) return
        const namespace = pool.metadata.namespace ?? ""
        if (policy === undefined) {
          yield* client
            .delete(ResourceType.NetworkPolicy, PoolNetworkPolicy.nameOf(pool.metadata.name ?? ""), {
              namespace,
            })
            .pipe(
              Effect.catchIf(
                (error) =>
                  KubeError.hasReason("NotFound")(error) ||
                  (networkWritten.get(poolKey) === undefined && KubeError.hasReason("Forbidden")(error)),
                () => Effect.void,
              ),
            )
        } else {
          yield* client.apply(ResourceType.NetworkPolicy, policy as unknown as KubeClient.ApplyObject, {
            namespace,
            force: true,
          })
        }
        networkWritten.set(poolKey, fingerprint)
      })

    const writeStatus = (pool: SandboxPool, status: SandboxPoolStatus) =>
      JSON.stringify(pool.status ?? {}) === JSON.stringify(status)
        ? Effect.void
        : client
            .patchStatus(SandboxPoolResource, pool.metadata.name ?? "", Patch.merge({ status }), {
              namespace: pool.metadata.namespace,
            })
            .pipe(Effect.asVoid)

    /** The plan's writes, each on its own (a failed one fails the pass after the rest are done). */
    const write = (
      pool: SandboxPool,
      template: PoolTemplate.ResolvedTemplate,
      target: PodFactory.PodTarget,
      plan: PoolPlan.PoolPlan,
      podsByName: (name: string) => PoolFacts.ReadPod | undefined,
      written: Map<string, number>,
      now: number,
    ) => {
      const namespace = pool.metadata.namespace ?? ""
      const name = pool.metadata.name ?? ""
      const poolKey = SandboxPod.poolKey(namespace, name)
      const names = Array.from({ length: plan.create }, () => PodFactory.podName(name))
      for (const podName of names) CreateExpectations.expect(expectations, poolKey, podName, now)
      const create = (podName: string) =>
        client
          .create(
            ResourceType.Pod,
            PodFactory.build({
              pool: { name, namespace, uid: pool.metadata.uid ?? "" },
              template: template.spec,
              useIdleImage: pool.spec.useIdleImage,
              name: podName,
            }),
            { namespace },
          )
          .pipe(
            // A create that failed, or was never sent because leadership ended, is not on its way.
            Effect.onExit((exit) =>
              Exit.isSuccess(exit)
                ? Effect.void
                : Effect.sync(() => CreateExpectations.lower(expectations, poolKey, podName)),
            ),
          )
      // Idle Pods go only as seen: a claim that lands first (a newer version) keeps its Pod.
      const remove = (victim: PoolPlan.PoolPlan["delete"][number]) => {
        const seen = podsByName(victim.name)?.view
        const asSeen = victim.reason !== "Failed" && seen !== undefined && seen.state === "idle"
        return client
          .delete(ResourceType.Pod, victim.name, {
            namespace,
            ...(seen === undefined
              ? {}
              : {
                  preconditions: asSeen
                    ? { uid: seen.uid, resourceVersion: seen.resourceVersion }
                    : { uid: seen.uid },
                }),
          })
          .pipe(
            Effect.catchIf(
              (e) => e.reason === "NotFound" || e.reason === "Conflict",
              () => Effect.void,
            ),
            Effect.tap(() => Effect.logDebug("deleted sandbox pod").pipe(Effect.annotateLogs(victim))),
          )
      }
      const update = (podName: string) => {
        const found = podsByName(podName)
        if (found === undefined) return Effect.void
        written.set(podName, now)
        return client
          .patch(ResourceType.Pod, podName, Patch.strategic(PodUpdate.updatePatch(found.pod, target, now)), {
            namespace,
          })
          .pipe(
            Effect.asVoid,
            Effect.tapBoth({
              onSuccess: () =>
                Effect.sync(() =>
                  OperatorMetrics.inPlaceUpdates.inc({ namespace, pool: name, result: "patched" }),
                ),
              onFailure: () =>
                Effect.sync(() =>
                  OperatorMetrics.inPlaceUpdates.inc({ namespace, pool: name, result: "error" }),
                ),
            }),
            // Changed meanwhile (claimed, say): the next pass decides again from the new version.
            Effect.catchIf(
              (e) => e.reason === "NotFound" || e.reason === "Conflict",
              () => Effect.sync(() => written.delete(podName)),
            ),
            Effect.tapError(() => Effect.sync(() => written.delete(podName))),
          )
      }
      const end = (ending: PoolPlan.PoolPlan["end"][number]) => {
        const found = podsByName(ending.name)
        return found === undefined || found.view.sandboxId === undefined
          ? Effect.void
          : recycler.end(found.pod, found.view.sandboxId, stillDue[ending.reason]).pipe(
              Effect.tap((outcome) =>
                Effect.sync(() => {
                  if (outcome._tag !== "Kept")
                    OperatorMetrics.expiries.inc({ namespace, pool: name, reason: ending.reason })
                }),
              ),
              Effect.tap((outcome) =>
                Effect.logDebug("sandbox ended").pipe(
                  Effect.annotateLogs({ ...ending, outcome: outcome._tag }),
                ),
              ),
              Effect.asVoid,
            )
      }
      const each = <A>(items: ReadonlyArray<A>, f: (a: A) => Effect.Effect<unknown, KubeError.KubeError>) =>
        Effect.forEach(items, (item) => Effect.either(f(item)), { concurrency: 16 })
      return Effect.map(
        Effect.all([
          each(names, create),
          each(plan.delete, remove),
          each(plan.update, update),
          each(plan.end, end),
        ]),
        (results) => results.flat().find(Either.isLeft),
      )
    }

    const reconcile = (pool: SandboxPool): Effect.Effect<Action.Action, KubeError.KubeError> =>
      Effect.gen(function* () {
        // Read.
        const namespace = pool.metadata.namespace ?? ""
        const poolKey = SandboxPod.poolKey(namespace, pool.metadata.name ?? "")
        const now = yield* Clock.currentTimeMillis
        yield* syncNetwork(pool, poolKey)
        const template = yield* PoolTemplate.resolve(pool, cluster.templates.store)
        if (Option.isNone(template)) {
          yield* writeStatus(pool, PoolStatus.templateMissing(pool, now))
          return Action.awaitChange // the template's watch triggers this pool when it appears
        }
        // An inline template runs under the operator's identity: only what any workload may ask for.
        const breaches =
          template.value.name === "inline" ? InlineTemplatePolicy.breaches(template.value.spec) : []
        if (breaches.length > 0) {
          yield* writeStatus(pool, PoolStatus.templateNotAllowed(pool, breaches, now))
          return Action.awaitChange // a fixed template is a new generation of the pool
        }
        const target = PodFactory.target(template.value.spec, pool.spec.useIdleImage)
        // The pool's Pods from its ledger: the bulk by count, only the others read one by one, so a
        // pass after a claim costs what changed, not the pool's size.
        const ledger = cluster.ledgerOf(poolKey, pool.metadata.uid ?? "")
        const reading = PoolLedger.read(ledger, target.revision, now)
        const podsByName = (podName: string): PoolFacts.ReadPod | undefined => {
          const pod = cluster.pods.store.unsafeGet(ObjectRef.key(ObjectRef.make(podName, namespace)))
          const view = pod === undefined || !cluster.isPoolsOwn(pod) ? undefined : SandboxPod.read(pod)
          return pod === undefined || view === undefined ? undefined : { pod, view }
        }
        // Read together with the Pods: a create counts as expected until the watch shows it.
        const pendingCreates = CreateExpectations.pending(expectations, poolKey, now)
        const written = updatesWritten.get(poolKey) ?? new Map<string, number>()
        updatesWritten.set(poolKey, written)
        for (const [podName, at] of written) {
          const seen = podsByName(podName)?.view
          if (seen === undefined || seen.revision === target.revision || now - at > expectationTtlMs)
            written.delete(podName)
        }
        // An update still in `written` is to a Pod seen at another revision: named already.
        const pods = reading.named.flatMap((podName) => {
          const found = podsByName(podName)
          return found === undefined ? [] : [found]
        })
        const plain: PoolPlan.PlainPods = {
          idle: reading.plainIdle,
          allocated: reading.plainAllocated,
          nextExpiry: reading.nextExpiry,
          idleNames: reading.plainIdleNames,
        }
        // Callers waiting here, and on the other replicas (as they publish it on the pool).
        const others = PoolDemand.othersWaiting(pool.metadata.annotations, selfDemandKey, now)
        const waiting = (yield* WarmQueue.waitingCount(yield* warmQueues.of(poolKey))) + others.waiting
        const lastAllocated = PoolFacts.lastAllocated({
          known: lastActivity.get(poolKey),
          recorded: pool.status?.lastAllocationTime,
          latest: ledger?.lastAllocatedAt,
          waiting,
          now,
        })
        lastActivity.set(poolKey, lastAllocated)

        // Nodes whose agent can scrub a recycled Pod: its ending Pods there come back (recyclable).
        const servedNodes = new Set<string>()
        for (const node of new Set(
          pods.flatMap(({ view }) => (view.nodeName === undefined ? [] : [view.nodeName])),
        ))
          if (yield* scrubber.serves(node)) servedNodes.add(node)

        // Plan.
        const plan = PoolPlan.plan({
          policy: PoolFacts.policyOf(pool, now),
          pods: PoolFacts.podFacts({ pool, target, pods, updatesWritten: written, now, servedNodes }),
          plain,
          pendingCreates,
          waiting,
          lastActivityAt: lastAllocated,
          now,
        })

        // Write, then the status.
        const failure = yield* write(pool, template.value, target, plan, podsByName, written, now)
        yield* writeStatus(
          pool,
          PoolStatus.afterPlan({
            pool,
            plan,
            revision: target.revision,
            podRevisions: pods.filter((p) => !p.view.deleting).map((p) => p.view.revision),
            lastAllocated,
            now,
          }),
        )
        if (failure !== undefined) return yield* Effect.fail(failure.left)

        // Writes the watch has not confirmed yet are looked at again after a while; deadlines
        // (expiry, startup, scale to zero) and another replica's lapsing report when they are due.
        const unconfirmed = CreateExpectations.pending(expectations, poolKey, now) > 0 || written.size > 0
        const wakeAfter = [
          unconfirmed ? 5_000 : undefined,
          plan.requeueAfterMs,
          others.lapsesAt === undefined ? undefined : others.lapsesAt - now,
        ].filter((ms): ms is number => ms !== undefined)
        return wakeAfter.length === 0
          ? Action.awaitChange
          : Action.requeue(Math.max(0, Math.min(...wakeAfter)))
      })

    /** Forgets what was tracked for a pool that is gone (its Pods go with it, by owner references). */
    const forget = (ref: ObjectRef.ObjectRef) =>
      Effect.sync(() => {
        const key = ObjectRef.key(ref)
        CreateExpectations.forget(expectations, key)
        updatesWritten.delete(key)
        lastActivity.delete(key)
        networkWritten.delete(key)
      })

    return { reconcile, forget }
  })
