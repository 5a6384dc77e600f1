import { ApiGroup } from "@agent-sandbox/domain"
import type { Pod } from "kubernetes-types/core/v1.js"
import type { OwnerReference } from "kubernetes-types/meta/v1.js"
import * as SandboxPod from "./SandboxPod.ts"

/**
 * Which pool a Pod belongs to. Labels are what the watch selects on, but anyone who may label a Pod
 * can write them: a Pod is a pool's only when its controller ownerReference names that SandboxPool
 * by uid, as the pool controller writes it at create (PodFactory.build). A Pod with the right labels
 * and no owner, another owner, or an owner of the same name from before the pool was re-created is
 * nobody's: it never enters a warm queue and never answers for a sandbox id.
 */

/** The controller ownerReference of a Pod, when it is a SandboxPool of this API group. */
export const controllerPool = (pod: Pod): OwnerReference | undefined => {
  const controller = pod.metadata?.ownerReferences?.find((owner) => owner.controller === true)
  return controller !== undefined &&
    controller.kind === ApiGroup.kinds.SandboxPool &&
    controller.apiVersion.split("/")[0] === ApiGroup.group
    ? controller
    : undefined
}

/** The pool, as the operator knows it: its name and uid (undefined: not known, or not there). */
export interface KnownPool {
  readonly name: string
  readonly uid: string
}

/**
 * The Pod is `pool`'s: its controller is that SandboxPool, by name and uid, and its pool label says
 * the same (the indexes file Pods by label).
 */
export const isOwnedBy = (pod: Pod, pool: KnownPool | undefined): boolean => {
  if (pool === undefined || pool.uid === "") return false
  const owner = controllerPool(pod)
  return (
    owner !== undefined &&
    owner.uid === pool.uid &&
    owner.name === pool.name &&
    pod.metadata?.labels?.[SandboxPod.Label.pool] === pool.name
  )
}
