import type { SandboxPool, SandboxPoolStatus } from "@agent-sandbox/domain"
import { Action, KubeClient, type KubeError, ObjectRef, Patch, ResourceType } from "@agent-sandbox/kube"
import { Clock, Effect, Either, Option } from "effect"
import * as WarmQueue from "../allocation/WarmQueue.ts"
import * as PodIndex from "../cluster/PodIndex.ts"
import { SandboxCache } from "../cluster/SandboxCache.ts"
import { SandboxPoolResource } from "../cluster/SandboxResources.ts"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as Recycle from "../sandbox/Recycle.ts"
import * as Recycler from "../sandbox/Recycler.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as CreateExpectations from "./CreateExpectations.ts"
import * as PodFactory from "./PodFactory.ts"
import * as PodUpdate from "./PodUpdate.ts"
import { setCondition } from "./PoolConditions.ts"
import * as PoolDemand from "./PoolDemand.ts"
import * as PoolPlan from "./PoolPlan.ts"
import * as PoolTemplate from "./PoolTemplate.ts"

/** Writes the watch has not shown yet, per pool and Pod name, with when they were sent. */
type Expectations = Map<string, Map<string, number>>

/** A write the watch never confirms (it failed silently, or the Pod vanished) stops counting after this. */
const expectationTtlMs = CreateExpectations.defaultTtlMs

/**
 * The recorded last allocation, moved only in steps of a minute: it is a scale-to-zero clock, and
 * rewriting it on every allocation would turn each one into a status write and another reconcile.
 */
const lastAllocationField = (recorded: string | undefined, latest: number) => {
  const recordedMs = recorded === undefined ? 0 : Date.parse(recorded)
  return latest - recordedMs < 60_000 && recorded !== undefined
    ? { lastAllocationTime: recorded }
    : { lastAllocationTime: new Date(latest).toISOString() }
}

/** The most common revision among Pods not yet at the update revision (the one being replaced). */
const currentRevisionOf = (revisions: ReadonlyArray<string | undefined>, updateRevision: string): string => {
  const counts = new Map<string, number>()
  for (const r of revisions)
    if (r !== undefined && r !== updateRevision) counts.set(r, (counts.get(r) ?? 0) + 1)
  let best: [string, number] | undefined
  for (const entry of counts) if (best === undefined || entry[1] > best[1]) best = entry
  return best?.[0] ?? updateRevision
}

export interface PoolReconcilerOptions {
  /** This replica: its own waiting callers are counted live, not from its published count. */
  readonly replicaId: string
}

/**
 * Reconciles one SandboxPool: reads the pool, its template and its Pods from the cache, asks
 * PoolPlan what to do, does it, and writes the status. Returns when to look again.
 */
export const make = (options: PoolReconcilerOptions) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const selfDemandKey = PoolDemand.annotationKey(options.replicaId)
    const cache = yield* SandboxCache
    const recycler = yield* Recycler.make
    // Lowered by the Pod watch (in the cache), not here: see CreateExpectations.
    const expectations = cache.createExpectations
    /** In-place updates written that the watch has not shown yet: counted as updating meanwhile. */
    const updatesWritten: Expectations = new Map()
    const lastActivity = new Map<string, number>()

    const writeStatus = (pool: SandboxPool, status: SandboxPoolStatus) =>
      JSON.stringify(pool.status ?? {}) === JSON.stringify(status)
        ? Effect.void
        : client
            .patchStatus(SandboxPoolResource, pool.metadata.name ?? "", Patch.merge({ status }), {
              namespace: pool.metadata.namespace,
            })
            .pipe(Effect.asVoid)

    return (ref: ObjectRef.ObjectRef): Effect.Effect<Action.Action, KubeError.KubeError> =>
      Effect.gen(function* () {
        const found = yield* cache.pools.getRef(ref)
        if (Option.isNone(found)) {
          // Deleted: its Pods go with it (owner references); forget what was tracked.
          CreateExpectations.forget(expectations, ObjectRef.key(ref))
          updatesWritten.delete(ObjectRef.key(ref))
          lastActivity.delete(ObjectRef.key(ref))
          return Action.awaitChange
        }
        const pool = found.value
        const namespace = pool.metadata.namespace ?? ""
        const name = pool.metadata.name ?? ""
        const poolKey = PodIndex.poolKey(namespace, name)
        const now = yield* Clock.currentTimeMillis
        const nowIso = new Date(now).toISOString()
        const previous: Partial<SandboxPoolStatus> = pool.status ?? {}
        const baseStatus = {
          ...previous,
          observedGeneration: pool.metadata.generation ?? 0,
          selector: `${SandboxPod.Label.pool}=${name}`,
          templateName: pool.spec.templateRef?.name ?? "inline",
        }

        const template = yield* PoolTemplate.resolve(pool, cache.templates)
        if (Option.isNone(template)) {
          const conditions = setCondition(
            previous.conditions ?? [],
            {
              type: "Ready",
              status: "False",
              reason: "TemplateNotFound",
              message: `SandboxTemplate ${pool.spec.templateRef?.name} does not exist`,
              observedGeneration: pool.metadata.generation ?? 0,
            },
            nowIso,
          )
          yield* writeStatus(pool, { ...baseStatus, conditions } as SandboxPoolStatus)
          return Action.awaitChange // the template watch triggers this pool when it appears
        }

        const target = PodFactory.target(template.value.spec, pool.spec.useIdleImage)
        const pods = yield* cache.podsOfPool(poolKey)
        // Read together with the Pods: a create counts as expected until the watch shows it.
        const pendingCreates = CreateExpectations.pending(expectations, poolKey, now)
        const read = pods.flatMap((pod) => {
          const view = SandboxPod.read(pod)
          return view === undefined ? [] : [{ pod, view }]
        })
        const views = read.map((r) => r.view)
        const podsByName = new Map(read.map((r) => [r.view.name, r]))
        const written = updatesWritten.get(poolKey) ?? new Map<string, number>()
        updatesWritten.set(poolKey, written)
        for (const [podName, at] of written) {
          const seen = podsByName.get(podName)?.view
          if (seen === undefined || seen.revision === target.revision || now - at > expectationTtlMs) {
            written.delete(podName)
          }
        }
        const facts = read.map(({ pod, view }): PoolPlan.PodFacts => {
          const writtenAt = written.get(view.name)
          const endsSoon =
            view.state === "allocated" &&
            ((view.expiresAt !== undefined && view.expiresAt <= now) ||
              view.restarting?.reason === "allocate")
          return {
            name: view.name,
            state: view.state,
            ready: writtenAt === undefined && view.ready,
            failed: view.failed,
            deleting: view.deleting,
            expiresAt: view.expiresAt,
            relation: writtenAt === undefined ? PodUpdate.relation(view, target) : "Current",
            restarting:
              writtenAt !== undefined
                ? { reason: "update", at: writtenAt }
                : view.restarting === undefined
                  ? undefined
                  : { reason: view.restarting.reason, at: view.restarting.at },
            recyclable:
              endsSoon &&
              Recycle.decide({ pod, policy: pool.spec.recyclePolicy, target, now })._tag === "InPlace",
          }
        })
        // Callers waiting here, and on the other replicas (as they publish it on the pool).
        const others = PoolDemand.othersWaiting(pool.metadata.annotations, selfDemandKey, now)
        const waiting = (yield* WarmQueue.waitingCount(yield* cache.warmQueue(poolKey))) + others.waiting
        const lastAllocated = Math.max(
          lastActivity.get(poolKey) ?? now, // unknown (e.g. after a restart): count from now, never scale down at once
          previous.lastAllocationTime === undefined ? 0 : Date.parse(previous.lastAllocationTime),
          ...views.map((v) => v.allocatedAt ?? 0),
          waiting > 0 ? now : 0,
        )
        lastActivity.set(poolKey, lastAllocated)

        const autoscaling = pool.spec.autoscaling
        const plan = PoolPlan.plan({
          policy: {
            replicas: pool.spec.replicas,
            maxPods: pool.spec.maxPods,
            autoscaling:
              autoscaling === undefined || !autoscaling.enabled
                ? undefined
                : {
                    minReplicas: autoscaling.minReplicas,
                    maxReplicas: autoscaling.maxReplicas,
                    scaleToZeroAfterSeconds: autoscaling.scaleToZeroAfterSeconds,
                  },
            update: {
              type: pool.spec.updateStrategy.type,
              maxUnavailable: PoolPlan.resolveMaxUnavailable(
                pool.spec.updateStrategy.maxUnavailable,
                PoolPlan.warmTarget({
                  policy: {
                    replicas: pool.spec.replicas,
                    maxPods: pool.spec.maxPods,
                    autoscaling: undefined,
                  },
                  pods: [],
                  pendingCreates: 0,
                  waiting: 0,
                  lastActivityAt: undefined,
                  now,
                }).target,
              ),
            },
            startupTimeoutMs: pool.spec.sandbox.startupTimeoutSeconds * 1000,
            burstReserve: PoolPlan.resolveBurstReserve(pool.spec.burstReserve, pool.spec.replicas),
          },
          pods: facts,
          pendingCreates,
          waiting,
          lastActivityAt: lastAllocated,
          now,
        })

        const names = Array.from({ length: plan.create }, () => PodFactory.podName(name))
        for (const podName of names) CreateExpectations.expect(expectations, poolKey, podName, now)
        const created = yield* Effect.forEach(
          names,
          (podName) =>
            client
              .create(
                ResourceType.Pod,
                PodFactory.build({
                  pool: { name, namespace, uid: pool.metadata.uid ?? "" },
                  template: template.value.spec,
                  useIdleImage: pool.spec.useIdleImage,
                  name: podName,
                }),
                { namespace },
              )
              .pipe(
                Effect.tapError(() =>
                  Effect.sync(() => CreateExpectations.lower(expectations, poolKey, podName)),
                ),
                Effect.either,
              ),
          { concurrency: 16 },
        )
        // Idle Pods go only as seen: a claim that lands first (a newer version) keeps its Pod.
        const deleted = yield* Effect.forEach(
          plan.delete,
          (victim) => {
            const seen = podsByName.get(victim.name)?.view
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
                Effect.either,
              )
          },
          { concurrency: 16 },
        )
        const updated = yield* Effect.forEach(
          plan.update,
          (podName) => {
            const found = podsByName.get(podName)
            if (found === undefined) return Effect.succeed(Either.right(undefined))
            written.set(podName, now)
            return client
              .patch(
                ResourceType.Pod,
                podName,
                Patch.strategic(PodUpdate.updatePatch(found.pod, target, now)),
                {
                  namespace,
                },
              )
              .pipe(
                Effect.asVoid,
                // Changed meanwhile (claimed, say): the next pass decides again from the new version.
                Effect.catchIf(
                  (e) => e.reason === "NotFound" || e.reason === "Conflict",
                  () => Effect.sync(() => written.delete(podName)),
                ),
                Effect.tapError(() => Effect.sync(() => written.delete(podName))),
                Effect.either,
              )
          },
          { concurrency: 16 },
        )
        const ended = yield* Effect.forEach(
          plan.end,
          (ending) => {
            const found = podsByName.get(ending.name)
            return found === undefined || found.view.sandboxId === undefined
              ? Effect.succeed(Either.right(undefined))
              : recycler.end(found.pod, found.view.sandboxId).pipe(
                  Effect.tap(() =>
                    OperatorMetrics.expiries.inc({ namespace, pool: name, reason: ending.reason }),
                  ),
                  Effect.tap((outcome) =>
                    Effect.logDebug("sandbox ended").pipe(
                      Effect.annotateLogs({ ...ending, outcome: outcome._tag }),
                    ),
                  ),
                  Effect.asVoid,
                  Effect.either,
                )
          },
          { concurrency: 16 },
        )

        for (const r of updated)
          OperatorMetrics.inPlaceUpdates.inc({
            namespace,
            pool: name,
            result: r._tag === "Right" ? "patched" : "error",
          })
        const { counts } = plan
        const filled = counts.idle >= plan.warmTarget
        const conditions = setCondition(
          previous.conditions ?? [],
          {
            type: "Ready",
            status: filled ? "True" : "False",
            reason: filled ? (plan.scaledToZero ? "ScaledToZero" : "WarmPoolFilled") : "WarmingUp",
            message: `${counts.idle} of ${plan.warmTarget} warm Pods ready`,
            observedGeneration: pool.metadata.generation ?? 0,
          },
          nowIso,
        )
        const rolledOut = counts.updated >= counts.total
        const withRollout = setCondition(
          conditions,
          {
            type: "Updated",
            status: rolledOut ? "True" : "False",
            reason: rolledOut ? "AllPodsUpdated" : counts.stalled > 0 ? "RolloutStalled" : "RollingOut",
            message: rolledOut
              ? `all Pods at revision ${target.revision}`
              : `${counts.updated} of ${counts.total} Pods at revision ${target.revision}` +
                (counts.stalled > 0
                  ? `; ${counts.stalled} not Ready on the new images within the startup timeout`
                  : "") +
                (counts.allocated > 0 ? "; allocated Pods are updated when released" : ""),
            observedGeneration: pool.metadata.generation ?? 0,
          },
          nowIso,
        )
        yield* writeStatus(pool, {
          ...baseStatus,
          replicas: counts.total,
          idleReplicas: counts.idle,
          allocatedReplicas: counts.allocated,
          startingReplicas: counts.starting,
          recyclingReplicas: counts.recycling,
          failedReplicas: counts.failed,
          updatedReplicas: counts.updated,
          currentRevision: currentRevisionOf(
            views.filter((v) => !v.deleting).map((v) => v.revision),
            target.revision,
          ),
          updateRevision: target.revision,
          ...lastAllocationField(previous.lastAllocationTime, lastAllocated),
          conditions: withRollout,
        } as SandboxPoolStatus)

        const failure = [...created, ...deleted, ...updated, ...ended].find((r) => r._tag === "Left")
        if (failure !== undefined && failure._tag === "Left") return yield* Effect.fail(failure.left)
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
  })
