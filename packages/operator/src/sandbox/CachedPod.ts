import type { Container, ContainerStatus, Pod, PodCondition, Volume } from "kubernetes-types/core/v1.js"
import type { OwnerReference } from "kubernetes-types/meta/v1.js"

/**
 * The part of a Pod the operator keeps in its cache: what its readers read, nothing else (like
 * client-go's TransformFunc). A Pod as the API server sends it is 3–4 KiB of JSON without
 * managedFields (far more with real env, probes and volumes); this keeps about a third, which is
 * what the cache holds for every Pod it watches and what the young generation promotes on every
 * change. Applied at ingestion (the Pod watch, and claims the cache remembers).
 *
 * Readers of cached Pods and what they take from them: SandboxPod.read (metadata, the sandbox
 * container's name and image, status phase, Ready condition, container statuses), ImageStatus
 * (container statuses: name, image, imageID, containerID, ready, state running / waiting reason and
 * message, the ended container's ID in lastState), Recycle (volumes by kind, the sandbox container's
 * volumeMounts, the other containers and init containers, shared namespaces), PodOwner (the controller
 * ownerReference), PodUpdate (containers' names and images), PoolReconciler / Recycler / Claim / Extend
 * (metadata for conditional writes),
 * the server's SandboxSize (the sandbox container's resources) and E2bView / SandboxResolver
 * (container names), the E2B data plane's routing to a node agent (spec.nodeName). A new reader of another field adds it here; CachedPod.test.ts checks that
 * every reader answers the same on a Pod and on its projection.
 */
export const project = (pod: Pod): Pod => {
  const metadata = pod.metadata
  const spec = pod.spec
  const status = pod.status
  const owner = controllerOf(pod)
  return {
    metadata: {
      name: metadata?.name ?? "",
      namespace: metadata?.namespace ?? "",
      ...defined("uid", metadata?.uid),
      ...defined("resourceVersion", metadata?.resourceVersion),
      ...defined("labels", metadata?.labels),
      ...defined("annotations", metadata?.annotations),
      ...defined("deletionTimestamp", metadata?.deletionTimestamp),
      ...(owner === undefined ? {} : { ownerReferences: [owner] }),
    },
    ...(spec === undefined
      ? {}
      : {
          spec: {
            containers: spec.containers.map(container),
            ...defined("nodeName", spec.nodeName),
            ...(spec.volumes === undefined ? {} : { volumes: spec.volumes.map(volume) }),
            ...(spec.initContainers === undefined
              ? {}
              : { initContainers: spec.initContainers.map(initContainer) }),
            ...defined("shareProcessNamespace", spec.shareProcessNamespace),
            ...defined("hostPID", spec.hostPID),
            ...defined("hostIPC", spec.hostIPC),
            ...defined("hostNetwork", spec.hostNetwork),
          },
        }),
    ...(status === undefined
      ? {}
      : {
          status: {
            ...defined("phase", status.phase),
            ...(status.conditions === undefined ? {} : { conditions: status.conditions.flatMap(ready) }),
            ...(status.containerStatuses === undefined
              ? {}
              : { containerStatuses: status.containerStatuses.map(containerStatus) }),
          },
        }),
  }
}

/** `{ [key]: value }` when value is set; nothing otherwise (optional fields stay absent). */
const defined = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }

const container = (c: Container): Container => ({
  name: c.name,
  ...defined("image", c.image),
  ...(c.resources === undefined || (c.resources.limits === undefined && c.resources.requests === undefined)
    ? {}
    : {
        resources: {
          ...defined("limits", c.resources.limits),
          ...defined("requests", c.resources.requests),
        },
      }),
  ...(c.volumeMounts === undefined
    ? {}
    : {
        volumeMounts: c.volumeMounts.map((m) => ({
          name: m.name,
          mountPath: m.mountPath,
          ...defined("readOnly", m.readOnly),
        })),
      }),
})

/** The controller ownerReference alone (PodOwner reads it); other owners go. */
const controllerOf = (pod: Pod): OwnerReference | undefined => {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true)
  return owner === undefined
    ? undefined
    : { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }
}

/** An init container's name and whether it keeps running beside the others (a native sidecar). */
const initContainer = (c: Container): Container => ({
  name: c.name,
  ...defined("restartPolicy", c.restartPolicy),
})

/** A volume's name and which kind of source it is (`{ emptyDir: {} }`); the source's settings go. */
const volume = (v: Volume): Volume => {
  const kept: Record<string, unknown> = { name: v.name }
  for (const [key, value] of Object.entries(v)) {
    if (key !== "name" && value !== undefined && value !== null) kept[key] = {}
  }
  return kept as unknown as Volume
}

const ready = (c: PodCondition): ReadonlyArray<PodCondition> =>
  c.type === "Ready" ? [{ type: c.type, status: c.status }] : []

const containerStatus = (s: ContainerStatus): ContainerStatus => {
  const waiting = s.state?.waiting
  return {
    name: s.name,
    image: s.image,
    imageID: s.imageID,
    ...defined("containerID", s.containerID),
    ready: s.ready,
    restartCount: s.restartCount,
    // ImageStatus: a real kubelet names the replaced container here once it has ended.
    ...(s.lastState?.terminated?.containerID === undefined
      ? {}
      : { lastState: { terminated: { exitCode: 0, containerID: s.lastState.terminated.containerID } } }),
    ...(s.state === undefined
      ? {}
      : {
          state: {
            ...(s.state.running === undefined ? {} : { running: {} }),
            ...(waiting === undefined
              ? {}
              : {
                  waiting: { ...defined("reason", waiting.reason), ...defined("message", waiting.message) },
                }),
            ...(s.state.terminated === undefined
              ? {}
              : { terminated: { exitCode: s.state.terminated.exitCode } }),
          },
        }),
  }
}
