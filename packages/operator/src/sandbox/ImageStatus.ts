import type { ContainerStatus, Pod } from "kubernetes-types/core/v1.js"
import { sameImage } from "./ImageRef.ts"

/**
 * Whether the sandbox container runs the image its spec names, judged only from the Pod's own
 * status as its kubelet wrote it (never by asking a registry): the container's status names the
 * spec's image, it runs and is Ready, and, when an image change was written, the container that
 * ran before it (by container ID) is gone.
 */
export type ImageStatus =
  | { readonly _tag: "Running" }
  /** Not there yet: stopping the old container, pulling, starting, or waiting for readiness. */
  | { readonly _tag: "Starting" }
  /** The kubelet cannot run it (a pull that fails, a container that cannot be created or crashes). */
  | { readonly _tag: "Failing"; readonly reason: string; readonly message: string }

/** Waiting reasons a kubelet reports when a container will not come up without a change. */
const failingReasons = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "RegistryUnavailable",
  "SignatureValidationFailed",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "CrashLoopBackOff",
])

/** Reasons that are about the spec's image itself: the kubelet only ever pulls or looks up that one. */
const imageReasons = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"])

export const statusOf = (pod: Pod, containerName: string): ContainerStatus | undefined =>
  pod.status?.containerStatuses?.find((s) => s.name === containerName)

export const judge = (
  pod: Pod,
  containerName: string,
  /** The container ID that ran before the last image change (empty when none ran). */
  replacedContainerId: string | undefined,
): ImageStatus => {
  const spec = pod.spec?.containers?.find((c) => c.name === containerName)
  const status = statusOf(pod, containerName)
  if (spec === undefined || status === undefined) return { _tag: "Starting" }
  const waiting = status.state?.waiting
  const specImage = spec.image ?? ""
  const stillOld =
    replacedContainerId !== undefined &&
    replacedContainerId !== "" &&
    status.containerID === replacedContainerId
  if (waiting?.reason !== undefined && failingReasons.has(waiting.reason) && !stillOld) {
    // A kubelet reports the spec's image on a container it cannot start.
    if (status.image === "" || sameImage(specImage, status.image)) {
      return { _tag: "Failing", reason: waiting.reason, message: waiting.message ?? waiting.reason }
    }
  }
  // A real kubelet that stopped the old container and cannot get the new image keeps reporting the
  // old container's ID and image, with the old container in lastState (measured on the real node).
  const oldEnded = stillOld && status.lastState?.terminated?.containerID === replacedContainerId
  if (oldEnded && waiting?.reason !== undefined && imageReasons.has(waiting.reason)) {
    return { _tag: "Failing", reason: waiting.reason, message: waiting.message ?? waiting.reason }
  }
  if (stillOld) return { _tag: "Starting" }
  const running = status.state?.running !== undefined && status.ready
  // A container started after the change runs the changed spec, whatever form the runtime reports
  // the image in; without such proof the status must name the spec's image.
  const restartedSince =
    replacedContainerId !== undefined &&
    replacedContainerId !== "" &&
    status.containerID !== undefined &&
    status.containerID !== ""
  return running && (restartedSince || sameImage(specImage, status.image))
    ? { _tag: "Running" }
    : { _tag: "Starting" }
}

/**
 * Whether every other container's status names its spec's image: a sidecar whose image was just
 * changed still reports the old one until its kubelet has restarted it.
 */
export const othersOnSpecImage = (pod: Pod, sandboxName: string): boolean =>
  (pod.spec?.containers ?? []).every((c) => {
    if (c.name === sandboxName) return true
    const status = statusOf(pod, c.name)
    return status === undefined || sameImage(c.image ?? "", status.image)
  })
