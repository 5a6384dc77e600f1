import type { SandboxPool, SandboxPoolStatus, SandboxTemplateSpec } from "@agent-sandbox/domain"
import { Action, KubeClient, type KubeError, ObjectRef, Patch, ResourceType } from "@agent-sandbox/kube"
import { Clock, Effect, Option } from "effect"
import * as WarmQueue from "../allocation/WarmQueue.ts"
import * as PodIndex from "../cluster/PodIndex.ts"
import { SandboxCache } from "../cluster/SandboxCache.ts"
import { SandboxPoolResource } from "../cluster/SandboxResources.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as PodFactory from "./PodFactory.ts"
import { setCondition } from "./PoolConditions.ts"
import * as PoolDemand from "./PoolDemand.ts"
import * as PoolPlan from "./PoolPlan.ts"

/** Creates the watch has not shown yet, per pool: counted as warm so a stale cache never over-creates. */
type Expectations = Map<string, Map<string, number>>

/** A create the watch never confirms (it failed silently, or the Pod vanished) stops counting after this. */
const expectationTtlMs = 60_000

const pendingCreates = (
  expectations: Expectations,
  poolKey: string,
  seen: ReadonlySet<string>,
  now: number,
) => {
  const pending = expectations.get(poolKey)
  if (pending === undefined) return 0
  for (const [name, at] of pending) if (seen.has(name) || now - at > expectationTtlMs) pending.delete(name)
  return pending.size
}

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

const resolveTemplate = (pool: SandboxPool, templates: SandboxCache["Type"]["templates"]) =>
  pool.spec.template !== undefined
    ? Effect.succeed(Option.some({ name: "inline", spec: pool.spec.template as SandboxTemplateSpec }))
    : Effect.map(templates.get(pool.spec.templateRef?.name ?? ""), (t) =>
        Option.map(t, (template) => ({ name: template.metadata.name ?? "", spec: template.spec })),
      )

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
    const expectations: Expectations = new Map()
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
          expectations.delete(ObjectRef.key(ref))
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

        const template = yield* resolveTemplate(pool, cache.templates)
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

        const pods = yield* cache.podsOfPool(poolKey)
        const views = pods.flatMap((p) => {
          const view = SandboxPod.read(p)
          return view === undefined ? [] : [view]
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
          },
          pods: views,
          pendingCreates: pendingCreates(expectations, poolKey, new Set(views.map((v) => v.name)), now),
          waiting,
          lastActivityAt: lastAllocated,
          now,
        })

        const names = Array.from({ length: plan.create }, () => PodFactory.podName(name))
        const pending = expectations.get(poolKey) ?? new Map<string, number>()
        expectations.set(poolKey, pending)
        for (const podName of names) pending.set(podName, now)
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
                Effect.tapError(() => Effect.sync(() => pending.delete(podName))),
                Effect.either,
              ),
          { concurrency: 16 },
        )
        const deleted = yield* Effect.forEach(
          plan.delete,
          (victim) =>
            client.delete(ResourceType.Pod, victim.name, { namespace }).pipe(
              Effect.catchIf(
                (e) => e.reason === "NotFound",
                () => Effect.void,
              ),
              Effect.tap(() => Effect.logDebug("deleted sandbox pod").pipe(Effect.annotateLogs(victim))),
              Effect.either,
            ),
          { concurrency: 16 },
        )

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
        yield* writeStatus(pool, {
          ...baseStatus,
          replicas: counts.total,
          idleReplicas: counts.idle,
          allocatedReplicas: counts.allocated,
          startingReplicas: counts.starting,
          recyclingReplicas: previous.recyclingReplicas ?? 0,
          failedReplicas: counts.failed,
          updatedReplicas: previous.updatedReplicas ?? 0,
          updateRevision: PodFactory.revision(template.value.spec),
          ...lastAllocationField(previous.lastAllocationTime, lastAllocated),
          conditions,
        } as SandboxPoolStatus)

        const failure = [...created, ...deleted].find((r) => r._tag === "Left")
        if (failure !== undefined && failure._tag === "Left") return yield* Effect.fail(failure.left)
        if (pending.size > 0) return Action.requeue("5 seconds")
        // Another replica's report that lapses changes the demand without any event.
        const wakeAfter = [
          plan.requeueAfterMs,
          others.lapsesAt === undefined ? undefined : others.lapsesAt - now,
        ].filter((ms): ms is number => ms !== undefined)
        return wakeAfter.length === 0
          ? Action.awaitChange
          : Action.requeue(Math.max(0, Math.min(...wakeAfter)))
      })
  })
