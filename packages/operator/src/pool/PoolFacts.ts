import type { SandboxPool } from "@agent-sandbox/domain"
import type { Pod } from "kubernetes-types/core/v1.js"
import type * as PodFactory from "../sandbox/PodFactory.ts"
import * as PodUpdate from "../sandbox/PodUpdate.ts"
import * as Recycle from "../sandbox/Recycle.ts"
import type * as SandboxPod from "../sandbox/SandboxPod.ts"
import * as PoolPlan from "./PoolPlan.ts"

/** A Pod of the pool as the reconciler read it: the object, and the operator's reading of it. */
export interface ReadPod {
  readonly pod: Pod
  readonly view: SandboxPod.SandboxPod
}

/** The pool's policy, as PoolPlan takes it (pure). */
export const policyOf = (pool: SandboxPool, now: number): PoolPlan.PoolPolicy => {
  const autoscaling = pool.spec.autoscaling
  const fixed = { replicas: pool.spec.replicas, maxPods: pool.spec.maxPods, autoscaling: undefined }
  return {
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
      // Relative to the fixed warm target: autoscaling must not change how many update at once.
      maxUnavailable: PoolPlan.resolveMaxUnavailable(
        pool.spec.updateStrategy.maxUnavailable,
        PoolPlan.warmTarget({
          policy: fixed,
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
  }
}

/**
 * What the plan needs to know of each Pod (pure). `updatesWritten` are in-place updates this
 * replica wrote that the watch has not shown yet (Pod name → when): counted as updating meanwhile.
 */
export const podFacts = (input: {
  readonly pool: SandboxPool
  readonly target: PodFactory.PodTarget
  readonly pods: ReadonlyArray<ReadPod>
  readonly updatesWritten: ReadonlyMap<string, number>
  readonly now: number
  /** Nodes a live node agent serves (a Pod there can be recycled in place scrubbed); default none. */
  readonly servedNodes?: ReadonlySet<string> | undefined
}): ReadonlyArray<PoolPlan.PodFacts> =>
  input.pods.map(({ pod, view }): PoolPlan.PodFacts => {
    const writtenAt = input.updatesWritten.get(view.name)
    const endsSoon =
      view.state === "allocated" &&
      ((view.expiresAt !== undefined && view.expiresAt <= input.now) ||
        view.restarting?.reason === "allocate")
    return {
      name: view.name,
      state: view.state,
      ready: writtenAt === undefined && view.ready,
      failed: view.failed,
      deleting: view.deleting,
      expiresAt: view.expiresAt,
      relation: writtenAt === undefined ? PodUpdate.relation(view, input.target) : "Current",
      restarting:
        writtenAt !== undefined
          ? { reason: "update", at: writtenAt }
          : view.restarting === undefined
            ? undefined
            : { reason: view.restarting.reason, at: view.restarting.at },
      recyclable:
        endsSoon &&
        Recycle.decide({
          pod,
          policy: input.pool.spec.recyclePolicy,
          target: input.target,
          now: input.now,
          agentOnNode: view.nodeName !== undefined && input.servedNodes?.has(view.nodeName) === true,
        })._tag === "InPlace",
    }
  })

/** When the pool was last allocated from, as far as this replica can tell (its scale-to-zero clock). */
export const lastAllocated = (input: {
  readonly known: number | undefined
  readonly recorded: string | undefined
  /** The latest allocation the pool's Pods recorded (PoolLedger keeps it per Pod event). */
  readonly latest: number | undefined
  readonly waiting: number
  readonly now: number
}): number =>
  Math.max(
    input.known ?? input.now, // unknown (e.g. after a restart): count from now, never scale down at once
    input.recorded === undefined ? 0 : Date.parse(input.recorded),
    input.latest ?? 0,
    input.waiting > 0 ? input.now : 0,
  )
