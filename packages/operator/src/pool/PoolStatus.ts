import type { SandboxPool, SandboxPoolStatus } from "@agent-sandbox/domain"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import { setCondition } from "./PoolConditions.ts"
import type * as PoolPlan from "./PoolPlan.ts"

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

/** What every status carries, whatever else is known. */
const base = (pool: SandboxPool) => ({
  ...(pool.status ?? {}),
  observedGeneration: pool.metadata.generation ?? 0,
  selector: `${SandboxPod.Label.pool}=${pool.metadata.name ?? ""}`,
  templateName: pool.spec.templateRef?.name ?? "inline",
})

/** The status of a pool whose SandboxTemplate does not exist (pure). */
export const templateMissing = (pool: SandboxPool, now: number): SandboxPoolStatus =>
  ({
    ...base(pool),
    conditions: setCondition(
      pool.status?.conditions ?? [],
      {
        type: "Ready",
        status: "False",
        reason: "TemplateNotFound",
        message: `SandboxTemplate ${pool.spec.templateRef?.name} does not exist`,
        observedGeneration: pool.metadata.generation ?? 0,
      },
      new Date(now).toISOString(),
    ),
  }) as SandboxPoolStatus

/** The pool's inline template asks for what inline templates may not (InlineTemplatePolicy). */
export const templateNotAllowed = (
  pool: SandboxPool,
  breaches: ReadonlyArray<string>,
  now: number,
): SandboxPoolStatus =>
  ({
    ...base(pool),
    conditions: setCondition(
      pool.status?.conditions ?? [],
      {
        type: "Ready",
        status: "False",
        reason: "TemplateNotAllowed",
        message: `the inline template asks for what only a SandboxTemplate may: ${breaches.join("; ")}`,
        observedGeneration: pool.metadata.generation ?? 0,
      },
      new Date(now).toISOString(),
    ),
  }) as SandboxPoolStatus

/** The status after a plan (pure): counts, revisions, the scale-to-zero clock and conditions. */
export const afterPlan = (input: {
  readonly pool: SandboxPool
  readonly plan: PoolPlan.PoolPlan
  readonly revision: string
  readonly podRevisions: ReadonlyArray<string | undefined>
  readonly lastAllocated: number
  readonly now: number
}): SandboxPoolStatus => {
  const { pool, plan, revision } = input
  const nowIso = new Date(input.now).toISOString()
  const generation = pool.metadata.generation ?? 0
  const { counts } = plan
  const filled = counts.idle >= plan.warmTarget
  const ready = setCondition(
    pool.status?.conditions ?? [],
    {
      type: "Ready",
      status: filled ? "True" : "False",
      reason: filled ? (plan.scaledToZero ? "ScaledToZero" : "WarmPoolFilled") : "WarmingUp",
      message: `${counts.idle} of ${plan.warmTarget} warm Pods ready`,
      observedGeneration: generation,
    },
    nowIso,
  )
  const rolledOut = counts.updated >= counts.total
  const conditions = setCondition(
    ready,
    {
      type: "Updated",
      status: rolledOut ? "True" : "False",
      reason: rolledOut ? "AllPodsUpdated" : counts.stalled > 0 ? "RolloutStalled" : "RollingOut",
      message: rolledOut
        ? `all Pods at revision ${revision}`
        : `${counts.updated} of ${counts.total} Pods at revision ${revision}` +
          (counts.stalled > 0
            ? `; ${counts.stalled} not Ready on the new images within the startup timeout`
            : "") +
          (counts.allocated > 0 ? "; allocated Pods are updated when released" : ""),
      observedGeneration: generation,
    },
    nowIso,
  )
  return {
    ...base(pool),
    replicas: counts.total,
    idleReplicas: counts.idle,
    allocatedReplicas: counts.allocated,
    startingReplicas: counts.starting,
    recyclingReplicas: counts.recycling,
    failedReplicas: counts.failed,
    updatedReplicas: counts.updated,
    currentRevision: currentRevisionOf(input.podRevisions, revision),
    updateRevision: revision,
    ...lastAllocationField(pool.status?.lastAllocationTime, input.lastAllocated),
    conditions,
  } as SandboxPoolStatus
}
