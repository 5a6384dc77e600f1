import { ApiGroup } from "@agent-sandbox/domain"
import type { Container, Pod } from "kubernetes-types/core/v1.js"
import * as ImageStatus from "./ImageStatus.ts"

/**
 * A sandbox is a Pod; its labels and annotations are the durable record, so an operator that
 * restarts rebuilds everything from one watch. Labels hold what is selected on, annotations the rest.
 */
const prefix = ApiGroup.keyPrefix
export const Label = {
  pool: `${prefix}pool`,
  state: `${prefix}state`,
  sandboxId: `${prefix}sandbox-id`,
  tenant: `${prefix}tenant`,
  /** The template revision the Pod was made or last updated for (PodTemplateHash.revision). */
  revision: `${prefix}revision`,
  /** The template with images blanked (PodTemplateHash.shape): equal shapes differ in images only. */
  shape: `${prefix}shape`,
} as const
export const Annotation = {
  allocatedAt: `${prefix}allocated-at`,
  expiresAt: `${prefix}expires-at`,
  metadata: `${prefix}metadata`,
  /** The runtime a request chose (its name). */
  runtime: `${prefix}runtime`,
  /** JSON object: the chosen runtime's environment, for the data plane to give every process. */
  runtimeEnv: `${prefix}runtime-env`,
  /** Which container is the sandbox (the template's containerName); default the first. */
  container: `${prefix}container`,
  /**
   * The image the sandbox container stands for when its spec names it pinned by digest (a recycle
   * in place restarts a container already on the pool image by pinning it: see Recycle).
   */
  image: `${prefix}image`,
  /** How often the Pod was recycled in place (recyclePolicy.maxReuses). */
  reuses: `${prefix}reuses`,
  /** JSON Restart: the last image change of the sandbox container, until the kubelet has done it. */
  restart: `${prefix}restart`,
  /**
   * "pending": recycled in place, its node agent has not yet cleared the Pod's own state (/dev/shm,
   * SysV IPC) that outlives the restart; the Pod is not claimable until the mark is gone.
   */
  scrub: `${prefix}scrub`,
} as const

/**
 * Keys the operator keeps on a Pod for its whole life. Every other key of this project's domain on a
 * Pod (`*.agent-sandbox.dev/…`: the claim's, a front end's such as `e2b.agent-sandbox.dev/…`)
 * belongs to one sandbox and is removed when the Pod is recycled for the next, unless the
 * template itself sets it.
 */
const lifecycleKeys: ReadonlySet<string> = new Set([
  Label.pool,
  Label.state,
  Label.revision,
  Label.shape,
  Annotation.container,
  Annotation.image,
  Annotation.reuses,
  Annotation.restart,
  Annotation.scrub,
])

const domain = ApiGroup.keyPrefix.slice(ApiGroup.keyPrefix.indexOf(".") + 1, -1)

/** A label or annotation a sandbox's claim (or a front end on its behalf) may have written. */
export const isSandboxKey = (key: string): boolean => {
  const slash = key.indexOf("/")
  if (slash === -1 || lifecycleKeys.has(key)) return false
  const keyPrefix = key.slice(0, slash)
  return keyPrefix === domain || keyPrefix.endsWith(`.${domain}`)
}

export type SandboxState = "idle" | "allocated"

/** Why the sandbox container's image was last changed. */
export type RestartReason = "allocate" | "update" | "recycle"

/** An image change written to the sandbox container, kept until the next one replaces it. */
export interface Restart {
  readonly reason: RestartReason
  /** The container ID that ran before ("" when none was running). */
  readonly from: string
  /** Epoch ms of the write. */
  readonly at: number
}

/** What the operator reads off one of its Pods. */
export interface SandboxPod {
  readonly namespace: string
  readonly name: string
  readonly uid: string
  readonly resourceVersion: string
  /** The node the Pod was scheduled to (undefined until it is): where a node agent can reach it. */
  readonly nodeName: string | undefined
  readonly pool: string
  readonly state: SandboxState
  /** Ready, and the sandbox container runs its spec's image (any image change is done). */
  readonly ready: boolean
  readonly failed: boolean
  readonly deleting: boolean
  /** The sandbox container's image, as requested (a pinned form of it counts as it). */
  readonly image: string
  readonly imageStatus: ImageStatus.ImageStatus
  readonly containerName: string
  /** The sandbox container's current container ID in the Pod's status ("" when none runs). */
  readonly containerId: string
  readonly revision: string | undefined
  readonly shape: string | undefined
  readonly reuses: number
  /** The last image change, while the Pod is not Ready on it. */
  readonly restarting: Restart | undefined
  /** Recycled in place and waiting for its node agent to clear its Pod-level state (Annotation.scrub). */
  readonly scrubPending: boolean
  readonly runtime: string | undefined
  readonly sandboxId: string | undefined
  readonly tenant: string | undefined
  readonly allocatedAt: number | undefined
  readonly expiresAt: number | undefined
  readonly metadata: Readonly<Record<string, string>>
  /** All of the Pod's annotations, for front ends that keep their own (see Claim.annotations). */
  readonly annotations: Readonly<Record<string, string>>
}

const parseTime = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

const parseObject = (value: string | undefined): Record<string, unknown> | undefined => {
  if (value === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(value)
    return parsed === null || typeof parsed !== "object" || Array.isArray(parsed)
      ? undefined
      : (parsed as Record<string, unknown>)
  } catch {
    return undefined
  }
}

/** A JSON object of strings (metadata, env); anything else reads as empty. */
export const parseStrings = (value: string | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(parseObject(value) ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
  )

const restartReasons: ReadonlySet<string> = new Set(["allocate", "update", "recycle"])

export const parseRestart = (value: string | undefined): Restart | undefined => {
  const parsed = parseObject(value)
  if (parsed === undefined) return undefined
  const { reason, from, at } = parsed
  const atMs = typeof at === "string" ? Date.parse(at) : Number.NaN
  return typeof reason === "string" &&
    restartReasons.has(reason) &&
    typeof from === "string" &&
    !Number.isNaN(atMs)
    ? { reason: reason as RestartReason, from, at: atMs }
    : undefined
}

export const encodeRestart = (restart: Restart): string =>
  JSON.stringify({ reason: restart.reason, from: restart.from, at: new Date(restart.at).toISOString() })

/** The sandbox container: named by the template, else the Pod's first container. */
export const sandboxContainer = (pod: Pod, containerName?: string): Container | undefined => {
  const containers = pod.spec?.containers ?? []
  const name = containerName ?? pod.metadata?.annotations?.[Annotation.container]
  return containers.find((c) => c.name === name) ?? containers[0]
}

/** The image a container stands for: its spec image, or what the spec's pinned form pins. */
export const logicalImage = (specImage: string, annotations: Readonly<Record<string, string>>): string => {
  const standsFor = annotations[Annotation.image]
  return standsFor !== undefined && specImage.startsWith(`${standsFor}@`) ? standsFor : specImage
}

/**
 * What `read` made of each Pod object (null: not one of ours). Pods are never changed once
 * received (each watch event brings a new object, the cache keeps them as they came), and the
 * pool reconciler reads every Pod of its pool on each pass, so each object is read once.
 */
const readings = new WeakMap<Pod, SandboxPod | null>()

/** Reads a Pod the operator manages; undefined for any other Pod. */
export const read = (pod: Pod): SandboxPod | undefined => {
  const known = readings.get(pod)
  if (known !== undefined) return known ?? undefined
  const reading = readFresh(pod)
  readings.set(pod, reading ?? null)
  return reading
}

const readFresh = (pod: Pod): SandboxPod | undefined => {
  const labels = pod.metadata?.labels ?? {}
  const annotations = pod.metadata?.annotations ?? {}
  const pool = labels[Label.pool]
  const state = labels[Label.state]
  if (pool === undefined || (state !== "idle" && state !== "allocated")) return undefined
  const phase = pod.status?.phase
  const container = sandboxContainer(pod)
  const containerName = container?.name ?? ""
  const restart = parseRestart(annotations[Annotation.restart])
  const imageStatus = ImageStatus.judge(pod, containerName, restart?.from)
  const podReady = pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false
  const reuses = Number(annotations[Annotation.reuses] ?? "0")
  const ready =
    podReady && imageStatus._tag === "Running" && ImageStatus.othersOnSpecImage(pod, containerName)
  return {
    namespace: pod.metadata?.namespace ?? "",
    name: pod.metadata?.name ?? "",
    uid: pod.metadata?.uid ?? "",
    resourceVersion: pod.metadata?.resourceVersion ?? "",
    nodeName: pod.spec?.nodeName,
    pool,
    state,
    ready,
    failed: phase === "Failed" || phase === "Succeeded",
    deleting: pod.metadata?.deletionTimestamp !== undefined,
    image: logicalImage(container?.image ?? "", annotations),
    imageStatus,
    containerName,
    containerId: ImageStatus.statusOf(pod, containerName)?.containerID ?? "",
    revision: labels[Label.revision],
    shape: labels[Label.shape],
    reuses: Number.isInteger(reuses) && reuses >= 0 ? reuses : 0,
    restarting: restart !== undefined && !ready ? restart : undefined,
    scrubPending: annotations[Annotation.scrub] !== undefined,
    runtime: annotations[Annotation.runtime],
    sandboxId: labels[Label.sandboxId],
    tenant: labels[Label.tenant],
    allocatedAt: parseTime(annotations[Annotation.allocatedAt]),
    expiresAt: parseTime(annotations[Annotation.expiresAt]),
    metadata: parseStrings(annotations[Annotation.metadata]),
    annotations,
  }
}

/** The env of the runtime the sandbox was claimed with, for the data plane to give its processes. */
export const runtimeEnvOf = (sandbox: SandboxPod): Readonly<Record<string, string>> =>
  parseStrings(sandbox.annotations[Annotation.runtimeEnv])

/** The sandbox's expiry has come (its end is due, or on its way): it is not extended back to life. */
export const hasExpired = (sandbox: SandboxPod, now: number): boolean =>
  sandbox.expiresAt !== undefined && sandbox.expiresAt <= now

/** Claimable: idle, Ready on its image, its Pod-level state cleared, and not on its way out. */
export const isClaimable = (pod: SandboxPod): boolean =>
  pod.state === "idle" && pod.ready && !pod.scrubPending && !pod.failed && !pod.deleting

/** The image a claim switches the sandbox container to, when the taken Pod is not on it already. */
export interface ImageSwap {
  readonly containerName: string
  readonly image: string
  /** The container ID running now: the swap is done once another one runs the image. */
  readonly replacing: string
}

export interface Claim {
  readonly resourceVersion: string
  readonly sandboxId: string
  readonly tenant: string
  readonly now: number
  readonly timeoutSeconds: number
  readonly metadata: Readonly<Record<string, string>>
  /** More annotations the caller's front end keeps with the sandbox (e.g. the E2B API's). */
  readonly annotations?: Readonly<Record<string, string>> | undefined
  readonly runtime?: { readonly name: string; readonly env: Readonly<Record<string, string>> } | undefined
  readonly swap?: ImageSwap | undefined
}

/**
 * The one write that allocates: a patch carrying the Pod's resourceVersion, so the API server
 * applies it only if nobody changed the Pod since we saw it idle (else 409). With an image swap it
 * is a strategic merge patch, which merges containers by name (a JSON merge patch would replace
 * the whole containers list), and the same write records the swap.
 */
export const claimPatch = (claim: Claim): object => {
  const metadata = {
    resourceVersion: claim.resourceVersion,
    labels: { [Label.state]: "allocated", [Label.sandboxId]: claim.sandboxId, [Label.tenant]: claim.tenant },
    annotations: {
      ...claim.annotations,
      [Annotation.allocatedAt]: new Date(claim.now).toISOString(),
      [Annotation.expiresAt]: new Date(claim.now + claim.timeoutSeconds * 1000).toISOString(),
      [Annotation.metadata]: JSON.stringify(claim.metadata),
      ...(claim.runtime === undefined
        ? {}
        : {
            [Annotation.runtime]: claim.runtime.name,
            [Annotation.runtimeEnv]: JSON.stringify(claim.runtime.env),
          }),
      ...(claim.swap === undefined
        ? {}
        : {
            [Annotation.image]: null,
            [Annotation.restart]: encodeRestart({
              reason: "allocate",
              from: claim.swap.replacing,
              at: claim.now,
            }),
          }),
    },
  }
  return claim.swap === undefined
    ? { metadata }
    : { metadata, spec: { containers: [{ name: claim.swap.containerName, image: claim.swap.image }] } }
}

/** Moves an allocated sandbox's expiry; conditional too, so an extend never races a release. */
export const expiryPatch = (resourceVersion: string, expiresAt: number): object => ({
  metadata: { resourceVersion, annotations: { [Annotation.expiresAt]: new Date(expiresAt).toISOString() } },
})

/** How pools are keyed in the operator's maps: "namespace/name", as ObjectRef.key makes it. */
export const poolKey = (namespace: string, pool: string): string => `${namespace}/${pool}`

/** The key of the pool a Pod belongs to (by its pool label), if any. */
export const poolKeyOf = (pod: Pod): string | undefined => {
  const pool = pod.metadata?.labels?.[Label.pool]
  return pool === undefined ? undefined : poolKey(pod.metadata?.namespace ?? "", pool)
}
