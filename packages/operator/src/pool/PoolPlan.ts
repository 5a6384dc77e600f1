/**
 * The pool reconciler's decision, as a pure function of what was observed: how many Pods to
 * create, which to update in place, which sandboxes end, which Pods to delete and why, what the
 * status should say, and when to look again. Level-based: it never asks what changed, only what is.
 */
import type { Relation } from "../sandbox/PodUpdate.ts"

export interface UpdatePolicy {
  /** InPlace: image-only differences are patched in place; Recreate: old Pods are replaced. */
  readonly type: "InPlace" | "Recreate"
  /** Idle Pods updating at once (in place), or new Pods starting at once to replace old ones (≥ 1). */
  readonly maxUnavailable: number
}

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
  /** Default: in place, one at a time. */
  readonly update?: UpdatePolicy | undefined
  /** How long an image change may take before it counts as failed (default 60 s). */
  readonly startupTimeoutMs?: number | undefined
  /** Warm Pods kept during a burst of claims, as a count (default: a quarter of the warm target). */
  readonly burstReserve?: number | undefined
}

export interface PodFacts {
  readonly name: string
  readonly state: "idle" | "allocated"
  /** Ready on its image (any image change done). */
  readonly ready: boolean
  readonly failed: boolean
  readonly deleting: boolean
  /** Epoch ms when an allocated sandbox expires. */
  readonly expiresAt: number | undefined
  /** Against the pool's current revision (default Current). */
  readonly relation?: Relation | undefined
  /** An image change the kubelet has not finished: why and when it was written. */
  readonly restarting?:
    | { readonly reason: "allocate" | "update" | "recycle"; readonly at: number }
    | undefined
  /** Whether the Pod would be recycled in place when its sandbox ends (else deleted). */
  readonly recyclable?: boolean | undefined
}

/** How long after the last claim the pool refills beyond its burst reserve. */
export const refillPauseMs = 1000

/**
 * Pods known by count only (PoolLedger): idle ones Ready at the current revision with no image
 * change under way, and allocated ones at the current revision neither ending nor changing. A claim
 * moves one from the first count to the second, so planning after it costs no walk of the pool.
 */
export interface PlainPods {
  readonly idle: number
  readonly allocated: number
  /** The soonest expiry among the plain allocated Pods (each later than now). */
  readonly nextExpiry: number | undefined
  /** The plain idle Pods' names: read only when some of them must go (a scale down). */
  readonly idleNames: () => ReadonlyArray<string>
}

export const noPlainPods: PlainPods = { idle: 0, allocated: 0, nextExpiry: undefined, idleNames: () => [] }

export interface PoolFacts {
  readonly policy: PoolPolicy
  /** Every Pod not in `plain`, one by one. */
  readonly pods: ReadonlyArray<PodFacts>
  /** The rest of the pool's Pods, by count (default none). */
  readonly plain?: PlainPods | undefined
  /** Pods this operator created that its watch has not shown yet (the cache may be stale). */
  readonly pendingCreates: number
  /** Callers waiting for a Pod of this pool right now. */
  readonly waiting: number
  /** Epoch ms of the last allocation or waiting caller, for scale to zero. */
  readonly lastActivityAt: number | undefined
  readonly now: number
}

export type DeleteReason =
  | "Failed"
  | "ScaleDown"
  /** An idle Pod of an old revision that cannot (or, with Recreate, may not) be updated in place. */
  | "Outdated"
  /** A recycled Pod that did not come back Ready on the pool image in time. */
  | "StartupTimeout"

/** Why a sandbox ends: its time is up, or its image did not start in time. */
export type EndReason = "Expired" | "StartupTimeout"

export interface PoolCounts {
  readonly total: number
  readonly idle: number
  /** Idle Pods not Ready: new ones, and ones being updated in place. */
  readonly starting: number
  readonly allocated: number
  /** Released Pods being wiped in place (their image change not done yet). */
  readonly recycling: number
  readonly failed: number
  readonly terminating: number
  /** Pods at the pool's current revision. */
  readonly updated: number
  /** Idle Pods whose in-place update is under way. */
  readonly updating: number
  /** Updates that have not come up within the startup timeout (the rollout waits on them). */
  readonly stalled: number
}

export interface PoolPlan {
  readonly warmTarget: number
  readonly create: number
  /** Idle Pods to update in place to the current revision. */
  readonly update: ReadonlyArray<string>
  /** Allocated Pods whose sandbox ends now: recycled (in place, or deleted, per policy). */
  readonly end: ReadonlyArray<{ readonly name: string; readonly reason: EndReason }>
  readonly delete: ReadonlyArray<{ readonly name: string; readonly reason: DeleteReason }>
  readonly counts: PoolCounts
  readonly scaledToZero: boolean
  /** Look again after this many ms even if nothing changes (expiry, scale-to-zero, startup timers). */
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

/**
 * maxUnavailable as a count: a percentage of the warm target, rounded down as a Deployment's is,
 * and never below one (a rollout must be able to move).
 */
export const resolveMaxUnavailable = (value: number | string, warmTarget: number): number => {
  const count =
    typeof value === "number" ? value : Math.floor((warmTarget * Number.parseInt(value, 10)) / 100)
  return Math.max(1, Number.isFinite(count) ? count : 1)
}

/** The burst reserve as a count: a percentage of the warm target is rounded up. */
export const resolveBurstReserve = (value: number | string, warmTarget: number): number =>
  typeof value === "number" ? value : Math.ceil((warmTarget * Number.parseInt(value, 10)) / 100)

const byName = (a: PodFacts, b: PodFacts) => a.name.localeCompare(b.name)
const byText = (a: string, b: string) => a.localeCompare(b)

/** How long after its startup timeout the pool ends a sandbox whose image has not come up. */
export const endGraceMs = 5_000

export const plan = (facts: PoolFacts): PoolPlan => {
  const { now } = facts
  const plain = facts.plain ?? noPlainPods
  const update = facts.policy.update ?? { type: "InPlace", maxUnavailable: 1 }
  const maxUnavailable = Math.max(1, update.maxUnavailable)
  const startupTimeoutMs = facts.policy.startupTimeoutMs ?? 60_000
  // A caller waiting on its sandbox's image gets its own answer at the deadline; the pool ends
  // sandboxes nobody waits on (wait: false, a replica gone) a little later.
  const deadlineOf = (p: PodFacts) =>
    (p.restarting?.at ?? now) + startupTimeoutMs + (p.restarting?.reason === "allocate" ? endGraceMs : 0)
  const overdue = (p: PodFacts) => p.restarting !== undefined && now >= deadlineOf(p)

  const live = facts.pods.filter((p) => !p.deleting)
  // A recycle that does not come up is a broken Pod; an update that does not is a stalled rollout
  // (left as it is, like a Deployment's, rather than churning Pods on an image that cannot run).
  const recycleTimedOut = live.filter(
    (p) => !p.failed && p.state === "idle" && p.restarting?.reason === "recycle" && overdue(p),
  )
  const failed = live.filter((p) => p.failed)
  const healthy = live.filter((p) => !p.failed && !recycleTimedOut.includes(p))

  const expired = healthy.filter(
    (p) => p.state === "allocated" && p.expiresAt !== undefined && p.expiresAt <= now,
  )
  const startupTimedOut = healthy.filter(
    (p) =>
      p.state === "allocated" && !expired.includes(p) && p.restarting?.reason === "allocate" && overdue(p),
  )
  const ending = [...expired, ...startupTimedOut]
  const allocated = healthy.filter((p) => p.state === "allocated" && !ending.includes(p))
  const idle = healthy.filter((p) => p.state === "idle")

  const relationOf = (p: PodFacts) => p.relation ?? "Current"
  const needsRecreate = (p: PodFacts) =>
    relationOf(p) === "Recreate" || (update.type === "Recreate" && relationOf(p) === "InPlace")
  const current = idle.filter((p) => relationOf(p) === "Current")
  const inPlace = idle.filter((p) => relationOf(p) === "InPlace" && !needsRecreate(p))
  const old = idle.filter(needsRecreate)
  // Old Pods not Ready serve nobody: replaced at once. Ready ones stay until new ones are Ready.
  const oldReady = old.filter((p) => p.ready)
  const oldStarting = old.filter((p) => !p.ready)

  const { target, scaledToZero } = warmTarget(facts)
  // Sandboxes ending now whose Pod comes back idle in place count as warm already.
  const returning = ending.filter((p) => p.recyclable === true).length
  const currentCount = current.length + plain.idle
  const liveCount = live.length + plain.idle + plain.allocated
  const warmNew = currentCount + inPlace.length + facts.pendingCreates + returning
  const availableNow =
    current.filter((p) => p.ready).length + plain.idle + inPlace.filter((p) => p.ready).length

  // Old Pods go as new ones become Ready, so the Ready warm Pods never drop below the target.
  const deleteOld = Math.min(oldReady.length, Math.max(0, availableNow + oldReady.length - target))
  const oldVictims = [...oldReady].sort(byName).slice(0, deleteOld)
  const oldLeft = oldReady.length - deleteOld
  // Replacements start at most maxUnavailable at a time beyond the target (a surge) while old Pods remain.
  const surge = oldLeft > 0 ? maxUnavailable : 0

  const removed = failed.length + recycleTimedOut.length + oldStarting.length + deleteOld
  const leaving = ending.length - returning
  const remaining = liveCount - removed - leaving + facts.pendingCreates
  const room =
    facts.policy.maxPods === undefined ? Number.POSITIVE_INFINITY : facts.policy.maxPods - remaining
  // During a burst of claims the pool keeps only a reserve of its warm target and refills the rest
  // once claims pause: each refill is several API writes (create, binding, the kubelet's status)
  // competing with the claims, so below the reserve it refills one for one, in step with the claims,
  // rather than all at once. Waiting callers and rollouts are never made to wait for this.
  const claimedRecently =
    facts.waiting === 0 && facts.lastActivityAt !== undefined && now - facts.lastActivityAt < refillPauseMs
  const burst = claimedRecently && oldLeft === 0
  const reserve = facts.policy.burstReserve ?? Math.ceil(target / 4)
  const refillTo = burst ? Math.min(target, Math.max(1, reserve)) : target
  const deferRefill = burst && warmNew < target
  const create = Math.max(0, Math.min(refillTo - warmNew, target + surge - warmNew - oldLeft, room))

  // Scale down the surplus: Pods still starting first (cheapest to lose), then Pods that would
  // need an update, then Ready ones.
  // Named (and sorted) only when some must go: the plain idle Pods are the pool's bulk.
  const surplus = Math.max(0, currentCount + inPlace.length + oldLeft - target - surge)
  const scaleDown =
    surplus === 0
      ? []
      : [
          ...[...current, ...inPlace].filter((p) => !p.ready).sort(byName),
          ...inPlace.filter((p) => p.ready).sort(byName),
        ]
          .map((p) => p.name)
          .concat([...current.filter((p) => p.ready).map((p) => p.name), ...plain.idleNames()].sort(byText))
          .slice(0, surplus)
  const goingDown = new Set(scaleDown)

  // In-place updates: at most maxUnavailable idle Pods updating at once.
  const updating = current.filter((p) => p.restarting?.reason === "update")
  const budget = Math.max(0, maxUnavailable - updating.length)
  const toUpdate = [
    ...inPlace.filter((p) => !p.ready && !goingDown.has(p.name)).sort(byName),
    ...inPlace.filter((p) => p.ready && !goingDown.has(p.name)).sort(byName),
  ].slice(0, budget)

  const soonest = (times: ReadonlyArray<number | undefined>) =>
    times.reduce<number | undefined>(
      (min, t) => (t === undefined ? min : min === undefined ? t : Math.min(min, t)),
      undefined,
    )
  const nextExpiry = soonest([...allocated.map((p) => p.expiresAt), plain.nextExpiry])
  const nextStartupDeadline = soonest(
    healthy
      .filter((p) => p.restarting !== undefined && p.restarting.reason !== "update" && !overdue(p))
      .map(deadlineOf),
  )
  const zeroAt =
    facts.policy.autoscaling?.scaleToZeroAfterSeconds !== undefined &&
    !scaledToZero &&
    facts.lastActivityAt !== undefined
      ? facts.lastActivityAt + facts.policy.autoscaling.scaleToZeroAfterSeconds * 1000
      : undefined
  const refillAt =
    deferRefill && facts.lastActivityAt !== undefined ? facts.lastActivityAt + refillPauseMs : undefined
  const wakeAt = soonest([nextExpiry, nextStartupDeadline, zeroAt, refillAt])

  const idleNotReady = idle.filter((p) => !p.ready)
  return {
    warmTarget: target,
    create,
    update: toUpdate.map((p) => p.name),
    end: [
      ...expired.map((p) => ({ name: p.name, reason: "Expired" as const })),
      ...startupTimedOut.map((p) => ({ name: p.name, reason: "StartupTimeout" as const })),
    ],
    delete: [
      ...failed.map((p) => ({ name: p.name, reason: "Failed" as const })),
      ...recycleTimedOut.map((p) => ({ name: p.name, reason: "StartupTimeout" as const })),
      ...[...oldStarting, ...oldVictims].map((p) => ({ name: p.name, reason: "Outdated" as const })),
      ...scaleDown.map((name) => ({ name, reason: "ScaleDown" as const })),
    ],
    counts: {
      total: liveCount,
      idle: idle.filter((p) => p.ready).length + plain.idle,
      starting: idleNotReady.filter((p) => p.restarting?.reason !== "recycle").length,
      recycling:
        idleNotReady.filter((p) => p.restarting?.reason === "recycle").length + recycleTimedOut.length,
      allocated: allocated.length + ending.length + plain.allocated,
      failed: failed.length,
      terminating: facts.pods.length - live.length,
      updated: live.filter((p) => relationOf(p) === "Current").length + plain.idle + plain.allocated,
      updating: updating.length,
      stalled: updating.filter(overdue).length,
    },
    scaledToZero,
    requeueAfterMs: wakeAt === undefined ? undefined : Math.max(0, wakeAt - now),
  }
}
