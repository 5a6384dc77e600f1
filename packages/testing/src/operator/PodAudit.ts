import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { SandboxPod } from "@agent-sandbox/operator/internal"
import { Effect } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"

/** What the cluster says of a pool's Pods: the durable record every promise is checked against. */
export interface PodAudit {
  readonly pods: ReadonlyArray<Pod>
  /** Idle (not deleting), Ready or not. */
  readonly idle: ReadonlyArray<Pod>
  /** Idle, Ready, not failed, not deleting: what an allocation could take now. */
  readonly claimable: ReadonlyArray<Pod>
  /** Pod name → sandbox id, for allocated Pods (deleting ones included: a release is not a loss). */
  readonly allocated: ReadonlyMap<string, string>
  /** Records that are neither cleanly idle nor cleanly allocated (a claim half-written). */
  readonly inconsistent: ReadonlyArray<string>
}

const consistent = (pod: Pod): boolean => {
  const labels = pod.metadata?.labels ?? {}
  const annotations = pod.metadata?.annotations ?? {}
  const state = labels[SandboxPod.Label.state]
  const id = labels[SandboxPod.Label.sandboxId]
  if (state === "idle") return id === undefined && labels[SandboxPod.Label.tenant] === undefined
  if (state === "allocated")
    return (
      id !== undefined &&
      id !== "" &&
      labels[SandboxPod.Label.tenant] !== undefined &&
      annotations[SandboxPod.Annotation.expiresAt] !== undefined &&
      annotations[SandboxPod.Annotation.allocatedAt] !== undefined
    )
  return false
}

export const audit = (
  namespace: string,
  pool: string,
): Effect.Effect<PodAudit, unknown, KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const list = yield* client.list(ResourceType.Pod, {
      namespace,
      labelSelector: `${SandboxPod.Label.pool}=${pool}`,
    })
    const pods = list.items
    const allocated = new Map<string, string>()
    const idle: Array<Pod> = []
    const claimable: Array<Pod> = []
    const inconsistent: Array<string> = []
    for (const pod of pods) {
      const name = pod.metadata?.name ?? ""
      if (!consistent(pod)) inconsistent.push(name)
      const view = SandboxPod.read(pod)
      if (view === undefined) continue
      if (view.state === "allocated" && view.sandboxId !== undefined) allocated.set(name, view.sandboxId)
      if (view.state === "idle" && !view.deleting) idle.push(pod)
      if (SandboxPod.isClaimable(view)) claimable.push(pod)
    }
    return { pods, idle, claimable, allocated, inconsistent }
  })
