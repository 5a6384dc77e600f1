import type { RecyclePolicy, SandboxPool } from "@agent-sandbox/domain"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as ImageRef from "./ImageRef.ts"
import * as ImageStatus from "./ImageStatus.ts"
import type { PodTarget } from "./PodFactory.ts"
import * as PodUpdate from "./PodUpdate.ts"
import * as SandboxPod from "./SandboxPod.ts"

/**
 * What happens to a Pod whose sandbox ended (released or expired). In place only when restarting the
 * sandbox container leaves nothing of the tenant behind: no writable volume, no other container or
 * native sidecar, no shared process namespace and none of the node's namespaces. In place: one conditional write
 * takes every trace of the sandbox off the Pod, puts it back to idle and changes the sandbox
 * container's image, so its kubelet restarts that container from a fresh writable layer; the Pod,
 * its node and IP stay, and nothing is created, deleted or scheduled. What outlives that restart
 * belongs to the Pod (/dev/shm, its IPC namespace): in place only where a node agent serves the
 * Pod's node (the write then marks the Pod, and PodScrubs has the agent clear that state before the
 * Pod is offered again), or where the pool accepts carrying it over. Otherwise the Pod is deleted
 * and the pool replaces it.
 */
export type Decision =
  | {
      readonly _tag: "InPlace"
      readonly patch: object
      /** The node agent clears the Pod's own state after the restart, before the Pod is offered again. */
      readonly scrub: boolean
    }
  | { readonly _tag: "Delete"; readonly reason: DeleteReason }

export type DeleteReason =
  /** recyclePolicy.type Delete. */
  | "Policy"
  /** Recycled recyclePolicy.maxReuses times already. */
  | "MaxReuses"
  /** A volume outlives a container restart, and with it whatever the sandbox wrote there. */
  | "WritableVolume"
  /** Another container runs beside the sandbox (or a native sidecar): it keeps what the sandbox left in it. */
  | "Sidecar"
  /** The sandbox shares the Pod's process namespace, or the node's processes, IPC or network. */
  | "SharedNamespace"
  /** The template changed beyond images since the Pod was made (or the pool has no template now). */
  | "Outdated"
  /** The Pod failed: nothing to reuse. */
  | "Failed"
  /** The pool holds its warm target already: a recycled Pod would only be deleted again as surplus. */
  | "Surplus"
  /** No other reference to the pool image is known to restart the container with (see below). */
  | "NoRestartReference"
  /**
   * No node agent serves the Pod's node to clear what outlives a container restart (/dev/shm, the
   * Pod's IPC namespace), and the pool does not accept passing it on (acceptPodStateCarryOver).
   */
  | "PodState"
  /** The node agent did not confirm it cleared the Pod's own state after a recycle (failed, timed out, gone). */
  | "ScrubFailed"

/** Volume kinds a kubelet always mounts read-only: they cannot carry a sandbox's writes. */
const readOnlySources = ["configMap", "secret", "downwardAPI", "projected", "image"] as const

/**
 * Volumes a sandbox could leave data in for the next tenant: every emptyDir (it outlives container
 * restarts, and any container of the Pod may share it), and any other volume the sandbox container
 * mounts read-write.
 */
export const writableVolumes = (pod: Pod): ReadonlyArray<string> => {
  const volumes = pod.spec?.volumes ?? []
  const sandbox = SandboxPod.sandboxContainer(pod)
  const mountedReadWrite = new Set(
    (sandbox?.volumeMounts ?? []).filter((m) => m.readOnly !== true).map((m) => m.name),
  )
  return volumes
    .filter((v) => {
      if (v.emptyDir !== undefined) return true
      const alwaysReadOnly = readOnlySources.some(
        (source) => (v as unknown as Record<string, unknown>)[source] !== undefined,
      )
      return !alwaysReadOnly && mountedReadWrite.has(v.name)
    })
    .map((v) => v.name)
}

/**
 * Containers other than the sandbox that run beside it: every other container, and init containers
 * that keep running (restartPolicy Always, native sidecars). A tenant can reach them (localhost,
 * signals with a shared process namespace) and leave state in them; a restart of the sandbox
 * container alone does not reset them.
 */
export const sidecars = (pod: Pod): ReadonlyArray<string> => {
  const sandbox = SandboxPod.sandboxContainer(pod)
  return [
    ...(pod.spec?.containers ?? []).filter((c) => c.name !== sandbox?.name).map((c) => c.name),
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always").map((c) => c.name),
  ]
}

/**
 * Namespaces the sandbox shares beyond its own container: the Pod's process namespace (processes of
 * the last tenant could be signalled or traced), the node's processes, IPC or network.
 */
export const sharedNamespaces = (pod: Pod): ReadonlyArray<string> => {
  const spec = pod.spec
  return [
    ...(spec?.shareProcessNamespace === true ? ["shareProcessNamespace"] : []),
    ...(spec?.hostPID === true ? ["hostPID"] : []),
    ...(spec?.hostIPC === true ? ["hostIPC"] : []),
    ...(spec?.hostNetwork === true ? ["hostNetwork"] : []),
  ]
}

/**
 * The sandbox container's next image: the pool image, unless the spec names it already or the
 * running container was started from it (a kubelet that has not acted on the last change yet);
 * then the pool image pinned to the digest the container's own status reports: the same content
 * under another reference, so the kubelet restarts the container without a pull. When the Pod
 * runs the pinned form the plain reference is next again. Undefined when no reference would
 * differ: the pool image is pinned already, or the runtime reports no repository digest (a locally
 * built image).
 */
export const nextSandboxImage = (
  pod: Pod,
  poolImage: string,
): { readonly image: string; readonly standsFor: string | undefined } | undefined => {
  const sandbox = SandboxPod.sandboxContainer(pod)
  const current = sandbox?.image ?? ""
  const status = sandbox === undefined ? undefined : ImageStatus.statusOf(pod, sandbox.name)
  const running =
    status?.image === undefined || status.image === "" ? undefined : ImageRef.canonical(status.image)
  const differs = (candidate: string) => candidate !== current && ImageRef.canonical(candidate) !== running
  if (differs(poolImage)) return { image: poolImage, standsFor: undefined }
  const digest = ImageRef.repositoryDigestOf(status?.imageID)
  const pinned = digest === undefined ? undefined : ImageRef.pinned(poolImage, digest)
  return pinned !== undefined && differs(pinned) ? { image: pinned, standsFor: poolImage } : undefined
}

export interface RecycleInput {
  readonly pod: Pod
  readonly policy: RecyclePolicy
  /** What idle Pods of the pool are now; undefined when the pool or its template is gone. */
  readonly target: PodTarget | undefined
  readonly now: number
  /** The pool has as many warm Pods as it wants without this one (see poolIsFull; default false). */
  readonly poolFull?: boolean | undefined
  /** A live node agent serves the Pod's node and can clear its Pod-level state (default false). */
  readonly agentOnNode?: boolean | undefined
}

/**
 * Whether a pool needs a released Pod back (pure, O(1)): not when its idle Pods, Ready or still
 * starting, already reach its warm target. One delete then does what a recycle and the pool's
 * later surplus delete would do in two writes; below the target, a recycle in place is cheaper
 * than a delete and a new Pod.
 */
export const poolIsFull = (input: { readonly idle: number; readonly warmTarget: number }): boolean =>
  input.idle >= input.warmTarget

/**
 * The warm target a release compares with (pure): the pool's replicas plus the callers waiting,
 * within its autoscaling bounds. A pool a sandbox was just released from is not scaled to zero.
 */
export const releaseWarmTarget = (pool: SandboxPool, waiting: number): number => {
  const wanted = pool.spec.replicas + waiting
  const autoscaling = pool.spec.autoscaling
  if (autoscaling === undefined || !autoscaling.enabled) return wanted
  const max = autoscaling.maxReplicas
  return Math.min(Math.max(wanted, Math.min(autoscaling.minReplicas, max)), max)
}

export const decide = ({ pod, policy, target, now, poolFull, agentOnNode }: RecycleInput): Decision => {
  const sandbox = SandboxPod.read(pod)
  if (policy.type === "Delete") return { _tag: "Delete", reason: "Policy" }
  if (sandbox === undefined || sandbox.failed) return { _tag: "Delete", reason: "Failed" }
  if (poolFull === true) return { _tag: "Delete", reason: "Surplus" }
  if (target === undefined || sandbox.shape !== target.shape) return { _tag: "Delete", reason: "Outdated" }
  if (policy.maxReuses !== undefined && sandbox.reuses >= policy.maxReuses) {
    return { _tag: "Delete", reason: "MaxReuses" }
  }
  if (writableVolumes(pod).length > 0) return { _tag: "Delete", reason: "WritableVolume" }
  if (sidecars(pod).length > 0) return { _tag: "Delete", reason: "Sidecar" }
  if (sharedNamespaces(pod).length > 0) return { _tag: "Delete", reason: "SharedNamespace" }
  const next = nextSandboxImage(pod, target.poolImage)
  if (next === undefined) return { _tag: "Delete", reason: "NoRestartReference" }
  // A restart leaves /dev/shm and the IPC namespace (the Pod's): only an agent on the node clears them.
  const scrub = agentOnNode === true
  if (!scrub && policy.acceptPodStateCarryOver !== true) return { _tag: "Delete", reason: "PodState" }
  return { _tag: "InPlace", patch: recyclePatch(pod, target, next, now, scrub), scrub }
}

/**
 * Whether a recycled Pod waits for its node agent to clear its Pod-level state now (pure): idle,
 * marked by the recycle, and Ready on the restarted container (so none of the last tenant's
 * processes is left to write again), not on its way out.
 */
export const scrubDue = (sandbox: SandboxPod.SandboxPod): boolean =>
  sandbox.state === "idle" && sandbox.scrubPending && sandbox.ready && !sandbox.failed && !sandbox.deleting

/** The write that offers a scrubbed Pod again: the mark removed, conditional on the version scrubbed. */
export const scrubbedPatch = (resourceVersion: string): object => ({
  metadata: { resourceVersion, annotations: { [SandboxPod.Annotation.scrub]: null } },
})

/**
 * The sandbox's keys removed, the template's own set back to the template's values (a template may
 * use keys of this domain too, such as the simulated kubelet's `kwok.agent-sandbox.dev/…`).
 */
const reset = (
  current: Readonly<Record<string, string>> | undefined,
  own: Readonly<Record<string, string>>,
): Record<string, string | null> => ({
  ...Object.fromEntries(
    Object.keys(current ?? {})
      .filter((key) => SandboxPod.isSandboxKey(key) && !(key in own))
      .map((key) => [key, null]),
  ),
  ...Object.fromEntries(Object.entries(own).filter(([key, value]) => current?.[key] !== value)),
})

/**
 * One strategic merge patch, conditional on the Pod's resourceVersion: every label and annotation
 * of the sandbox's domain removed (the operator's own claim keys and any front end's, such as the
 * E2B API's access-token digest and env vars) but the template's own, the Pod idle again at the target revision, one more
 * reuse counted, and new images: the sandbox container's always changes (see nextSandboxImage),
 * other containers' only where the target's differ.
 */
const recyclePatch = (
  pod: Pod,
  target: PodTarget,
  next: { readonly image: string; readonly standsFor: string | undefined },
  now: number,
  scrub: boolean,
): object => {
  const sandbox = SandboxPod.read(pod)
  const sandboxName = sandbox?.containerName ?? target.containerName
  const others = PodUpdate.imageChanges(pod, target).filter((c) => c.name !== sandboxName)
  return {
    metadata: {
      resourceVersion: pod.metadata?.resourceVersion ?? "",
      labels: {
        ...reset(pod.metadata?.labels, target.labels),
        [SandboxPod.Label.state]: "idle",
        [SandboxPod.Label.revision]: target.revision,
      },
      annotations: {
        ...reset(pod.metadata?.annotations, target.annotations),
        [SandboxPod.Annotation.reuses]: String((sandbox?.reuses ?? 0) + 1),
        [SandboxPod.Annotation.scrub]: scrub ? "pending" : null,
        [SandboxPod.Annotation.image]: next.standsFor ?? null,
        [SandboxPod.Annotation.restart]: SandboxPod.encodeRestart({
          reason: "recycle",
          from: PodUpdate.runningContainerId(pod),
          at: now,
        }),
      },
    },
    spec: { containers: [{ name: sandboxName, image: next.image }, ...others] },
  }
}
