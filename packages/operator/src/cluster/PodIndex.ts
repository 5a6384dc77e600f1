import { ObjectRef } from "@agent-sandbox/kube"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as SandboxPod from "../sandbox/SandboxPod.ts"

/**
 * The operator's Pods, indexed the ways it asks: by pool (reconcile, counts) and by sandbox id
 * (API lookups). Mutable, owned by the single watch consumer; readers get snapshots.
 */
export interface PodIndex {
  readonly byPool: Map<string, Map<string, Pod>>
  readonly bySandboxId: Map<string, Pod>
  readonly sandboxIdByPod: Map<string, string>
}

export const make = (): PodIndex => ({ byPool: new Map(), bySandboxId: new Map(), sandboxIdByPod: new Map() })

export const poolKey = (namespace: string, pool: string): string => `${namespace}/${pool}`

export const poolKeyOf = (pod: Pod): string | undefined => {
  const pool = pod.metadata?.labels?.[SandboxPod.Label.pool]
  return pool === undefined ? undefined : poolKey(pod.metadata?.namespace ?? "", pool)
}

export const remove = (index: PodIndex, pod: Pod): void => {
  const key = ObjectRef.keyOf(pod)
  const pool = poolKeyOf(pod)
  if (pool !== undefined) {
    const pods = index.byPool.get(pool)
    pods?.delete(pod.metadata?.name ?? "")
    if (pods?.size === 0) index.byPool.delete(pool)
  }
  const id = index.sandboxIdByPod.get(key)
  if (id !== undefined) {
    index.sandboxIdByPod.delete(key)
    if (index.bySandboxId.get(id) !== undefined && ObjectRef.keyOf(index.bySandboxId.get(id)!) === key) {
      index.bySandboxId.delete(id)
    }
  }
}

export const upsert = (index: PodIndex, pod: Pod): void => {
  remove(index, pod)
  const pool = poolKeyOf(pod)
  if (pool === undefined) return
  let pods = index.byPool.get(pool)
  if (pods === undefined) {
    pods = new Map()
    index.byPool.set(pool, pods)
  }
  pods.set(pod.metadata?.name ?? "", pod)
  const sandbox = SandboxPod.read(pod)
  if (sandbox?.state === "allocated" && sandbox.sandboxId !== undefined) {
    index.bySandboxId.set(sandbox.sandboxId, pod)
    index.sandboxIdByPod.set(ObjectRef.keyOf(pod), sandbox.sandboxId)
  }
}
