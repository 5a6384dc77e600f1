import type { SandboxIdFormat } from "@agent-sandbox/domain"
import { type KubeClient, type KubeError, Patch, ResourceType } from "@agent-sandbox/kube"
import { Clock, Effect } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import type * as PoolTemplate from "../sandbox/PoolTemplate.ts"
import * as SandboxId from "../sandbox/SandboxId.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import type { AllocationRequest } from "./AllocationRequest.ts"
import type { WarmPod } from "./IdlePods.ts"

export interface Claimed {
  readonly pod: Pod
  /** The claim also switched the sandbox container's image: it restarts before it is Ready. */
  readonly swapped: boolean
}

/**
 * The single write of an allocation, on a Pod taken from the warm queue: conditional on the version
 * the watch showed, so exactly one of any racing claims lands (the others get 409). When the Pod is
 * not on the wanted image the same write swaps it (see SandboxPod.claimPatch).
 */
export const claim = (
  client: KubeClient.KubeClientShape,
  request: AllocationRequest,
  pod: WarmPod,
  timeoutSeconds: number,
  wanted: PoolTemplate.Wanted | undefined,
  sandboxIdInUse: (sandboxId: string) => boolean,
  clusterTag?: SandboxIdFormat.ClusterTag,
): Effect.Effect<Claimed, KubeError.KubeError> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const swap =
      wanted === undefined || wanted.image === pod.image
        ? undefined
        : { containerName: pod.containerName ?? "", image: wanted.image, replacing: pod.containerId ?? "" }
    const patch = SandboxPod.claimPatch({
      resourceVersion: pod.resourceVersion,
      // Unique in the cluster: never one a watched Pod carries (a forged Pod's included).
      sandboxId: SandboxId.mintUnused(sandboxIdInUse, clusterTag),
      tenant: request.tenant,
      now,
      timeoutSeconds,
      metadata: request.metadata ?? {},
      annotations: request.annotations,
      runtime: wanted?.runtime,
      swap,
    })
    // Labels and annotations merge the same way in both patch kinds; only a container list needs
    // the strategic merge (by name), and a JSON merge patch costs the API server less.
    const write = swap === undefined ? Patch.merge(patch) : Patch.strategic(patch)
    const claimed = yield* client.patch(ResourceType.Pod, pod.name, write, { namespace: request.namespace })
    return { pod: claimed, swapped: swap !== undefined }
  })
