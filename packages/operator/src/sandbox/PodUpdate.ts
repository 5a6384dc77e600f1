import type { Pod } from "kubernetes-types/core/v1.js"
import * as ImageStatus from "./ImageStatus.ts"
import type { PodTarget } from "./PodFactory.ts"
import * as SandboxPod from "./SandboxPod.ts"

/**
 * How a Pod relates to the pool's target revision: already there, reachable in place (its shape
 * is the same, so only images differ: a kubelet restarts just the containers whose image changed),
 * or only by a new Pod. Pods from before shapes were recorded have none and are recreated.
 */
export type Relation = "Current" | "InPlace" | "Recreate"

export const relation = (
  pod: { readonly revision: string | undefined; readonly shape: string | undefined },
  target: PodTarget,
): Relation =>
  pod.revision === target.revision ? "Current" : pod.shape === target.shape ? "InPlace" : "Recreate"

export interface ContainerImage {
  readonly name: string
  readonly image: string
}

/**
 * The containers whose image must change for the Pod to match the target's idle images. The
 * sandbox container counts as on its image when its spec names a pinned form of it.
 */
export const imageChanges = (pod: Pod, target: PodTarget): ReadonlyArray<ContainerImage> => {
  const annotations = pod.metadata?.annotations ?? {}
  const sandbox = SandboxPod.sandboxContainer(pod)
  return (pod.spec?.containers ?? []).flatMap((c) => {
    const wanted = target.images[c.name]
    if (wanted === undefined) return []
    const current = c === sandbox ? SandboxPod.logicalImage(c.image ?? "", annotations) : c.image
    return current === wanted ? [] : [{ name: c.name, image: wanted }]
  })
}

/** The sandbox container's running container ID: an image change is done once another one runs. */
export const runningContainerId = (pod: Pod): string => {
  const sandbox = SandboxPod.sandboxContainer(pod)
  return sandbox === undefined ? "" : (ImageStatus.statusOf(pod, sandbox.name)?.containerID ?? "")
}

/**
 * The in-place update of an idle Pod to the target revision, as one strategic merge patch
 * (containers merge by name; a JSON merge patch would replace the whole list) conditional on the
 * Pod's resourceVersion: new images where they differ, the revision label, and the restart record
 * the Pod is judged by until its kubelet has run the new image.
 */
export const updatePatch = (pod: Pod, target: PodTarget, now: number): object => {
  const changes = imageChanges(pod, target)
  const sandbox = SandboxPod.sandboxContainer(pod)
  const sandboxChanges = changes.some((c) => c.name === sandbox?.name)
  return {
    metadata: {
      resourceVersion: pod.metadata?.resourceVersion ?? "",
      labels: { [SandboxPod.Label.revision]: target.revision },
      ...(changes.length === 0
        ? {}
        : {
            annotations: {
              ...(sandboxChanges ? { [SandboxPod.Annotation.image]: null } : {}),
              [SandboxPod.Annotation.restart]: SandboxPod.encodeRestart({
                reason: "update",
                from: sandboxChanges ? runningContainerId(pod) : "",
                at: now,
              }),
            },
          }),
    },
    ...(changes.length === 0 ? {} : { spec: { containers: changes } }),
  }
}
