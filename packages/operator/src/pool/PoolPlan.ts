/**
 * The pool reconciler's decision, as a pure function of what was observed: how many Pods to
 * create, which to delete and why, what the status should say, and when to look again.
 * Level-based: it never asks what changed, only what is.
 */

export interface PoolPolicy {
  /** The warm (idle) target. */
  readonly replicas: number
  /** Cap on all of the pool's Pods, idle and allocated. */
  readonly maxPods: number | undefined
  readonly autoscaling:
    | {
        readonly minReplicas: number
        readonly maxReplicas: number
        /** Scale the warm target to zero after this long without allocations or waiting callers. */
        readonly scaleToZeroAfterSeconds: number | undefined
      }
    | undefined
}

export interface PodFacts {
  readonly name: string
  readonly state: "idle" | "allocated"
  readonly ready: boolean
  readonly failed: boolean
  readonly deleting: boolean
  /** Epoch ms when an allocated sandbox expires. */
  readonly expiresAt: number | undefined
}

export interface PoolFacts {
  readonly policy: PoolPolicy
  readonly pods: ReadonlyArray<PodFacts>
  /** Pods this operator created that its watch has not shown yet (the cache may be stale). */
  readonly pendingCreates: number
  /** Callers waiting for a Pod of this pool right now. */
  readonly waiting: number
  /** Epoch ms of the last allocation or waiting caller, for scale to zero. */
  readonly lastActivityAt: number | undefined
  readonly now: number
}

export type DeleteReason = "Expired" | "Failed" | "ScaleDown"

export interface PoolCounts {
  readonly total: number
  readonly idle: number
  readonly starting: number
  readonly allocated: number
  readonly failed: number
  readonly terminating: number
}

export interface PoolPlan {
  readonly warmTarget: number
  readonly create: number
  readonly delete: ReadonlyArray<{ readonly name: string; readonly reason: DeleteReason }>
  readonly counts: PoolCounts
  readonly scaledToZero: boolean
  /** Look again after this many ms even if nothing changes (expiry, scale-to-zero timer). */
  readonly requeueAfterMs: number | undefined
}

const clamp = (value: number, min: number, max: number) => Math.min(Math.max(value, min), max)

/** The warm target: the spec's replicas plus the callers waiting, bounded by autoscaling. */
export const warmTarget = (facts: PoolFacts): { readonly target: number; readonly scaledToZero: boolean } => {
  const { policy, waiting } = facts
  const wanted = policy.replicas + waiting
  if (policy.autoscaling === undefined) return { target: wanted, scaledToZero: false }
  const { minReplicas, maxReplicas, scaleToZeroAfterSeconds } = policy.autoscaling
  const quietFor =
    facts.lastActivityAt === undefined ? Number.POSITIVE_INFINITY : facts.now - facts.lastActivityAt
  if (waiting === 0 && scaleToZeroAfterSeconds !== undefined && quietFor >= scaleToZeroAfterSeconds * 1000) {
    return { target: 0, scaledToZero: true }
  }
  return { target: clamp(wanted, Math.min(minReplicas, maxReplicas), maxReplicas), scaledToZero: false }
}

export const plan = (facts: PoolFacts): PoolPlan => {
  const live = facts.pods.filter((p) => !p.deleting)
  const failed = live.filter((p) => p.failed)
  const healthy = live.filter((p) => !p.failed)
  const expired = healthy.filter(
    (p) => p.state === "allocated" && p.expiresAt !== undefined && p.expiresAt <= facts.now,
  )
  const allocated = healthy.filter((p) => p.state === "allocated" && !expired.includes(p))
  const idle = healthy.filter((p) => p.state === "idle" && p.ready)
  const starting = healthy.filter((p) => p.state === "idle" && !p.ready)

  const { target, scaledToZero } = warmTarget(facts)
  const warm = idle.length + starting.length + facts.pendingCreates
  // Pods being removed in this pass make room under the cap.
  const remaining = live.length - failed.length - expired.length + facts.pendingCreates
  const room =
    facts.policy.maxPods === undefined ? Number.POSITIVE_INFINITY : facts.policy.maxPods - remaining
  const create = Math.max(0, Math.min(target - warm, room))

  // Scale down the surplus, Pods still starting first (cheapest to lose), then idle ones.
  const surplus = Math.max(0, idle.length + starting.length - target)
  const byName = (a: PodFacts, b: PodFacts) => a.name.localeCompare(b.name)
  const scaleDown = [...starting.sort(byName), ...idle.sort(byName)].slice(0, surplus)

  const nextExpiry = allocated.reduce<number | undefined>(
    (soonest, p) =>
      p.expiresAt === undefined
        ? soonest
        : soonest === undefined
          ? p.expiresAt
          : Math.min(soonest, p.expiresAt),
    undefined,
  )
  const zeroAt =
    facts.policy.autoscaling?.scaleToZeroAfterSeconds !== undefined &&
    !scaledToZero &&
    facts.lastActivityAt !== undefined
      ? facts.lastActivityAt + facts.policy.autoscaling.scaleToZeroAfterSeconds * 1000
      : undefined
  const wakeAt = [nextExpiry, zeroAt].filter((t): t is number => t !== undefined)

  return {
    warmTarget: target,
    create,
    delete: [
      ...failed.map((p) => ({ name: p.name, reason: "Failed" as const })),
      ...expired.map((p) => ({ name: p.name, reason: "Expired" as const })),
      ...scaleDown.map((p) => ({ name: p.name, reason: "ScaleDown" as const })),
    ],
    counts: {
      total: live.length,
      idle: idle.length,
      starting: starting.length,
      allocated: allocated.length + expired.length,
      failed: failed.length,
      terminating: facts.pods.length - live.length,
    },
    scaledToZero,
    requeueAfterMs: wakeAt.length === 0 ? undefined : Math.max(0, Math.min(...wakeAt) - facts.now),
  }
}
