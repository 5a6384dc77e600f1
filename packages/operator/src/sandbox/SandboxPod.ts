import { ApiGroup } from "@agent-sandbox/domain"
import type { Container, Pod } from "kubernetes-types/core/v1.js"

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
  revision: `${prefix}revision`,
} as const
export const Annotation = {
  allocatedAt: `${prefix}allocated-at`,
  expiresAt: `${prefix}expires-at`,
  metadata: `${prefix}metadata`,
} as const

export type SandboxState = "idle" | "allocated"

/** What the operator reads off one of its Pods. */
export interface SandboxPod {
  readonly namespace: string
  readonly name: string
  readonly resourceVersion: string
  readonly pool: string
  readonly state: SandboxState
  readonly ready: boolean
  readonly failed: boolean
  readonly deleting: boolean
  readonly image: string
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

const parseMetadata = (value: string | undefined): Record<string, string> => {
  if (value === undefined) return {}
  try {
    const parsed: unknown = JSON.parse(value)
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {}
    return Object.fromEntries(
      Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string"),
    )
  } catch {
    return {}
  }
}

/** The sandbox container: named by the template, else the Pod's first container. */
export const sandboxContainer = (pod: Pod, containerName?: string): Container | undefined => {
  const containers = pod.spec?.containers ?? []
  return containers.find((c) => c.name === containerName) ?? containers[0]
}

/** Reads a Pod the operator manages; undefined for any other Pod. */
export const read = (pod: Pod): SandboxPod | undefined => {
  const labels = pod.metadata?.labels ?? {}
  const annotations = pod.metadata?.annotations ?? {}
  const pool = labels[Label.pool]
  const state = labels[Label.state]
  if (pool === undefined || (state !== "idle" && state !== "allocated")) return undefined
  const phase = pod.status?.phase
  return {
    namespace: pod.metadata?.namespace ?? "",
    name: pod.metadata?.name ?? "",
    resourceVersion: pod.metadata?.resourceVersion ?? "",
    pool,
    state,
    ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    failed: phase === "Failed" || phase === "Succeeded",
    deleting: pod.metadata?.deletionTimestamp !== undefined,
    image: sandboxContainer(pod)?.image ?? "",
    sandboxId: labels[Label.sandboxId],
    tenant: labels[Label.tenant],
    allocatedAt: parseTime(annotations[Annotation.allocatedAt]),
    expiresAt: parseTime(annotations[Annotation.expiresAt]),
    metadata: parseMetadata(annotations[Annotation.metadata]),
    annotations,
  }
}

/** Claimable: idle, Ready and not on its way out. */
export const isClaimable = (pod: SandboxPod): boolean =>
  pod.state === "idle" && pod.ready && !pod.failed && !pod.deleting

export interface Claim {
  readonly resourceVersion: string
  readonly sandboxId: string
  readonly tenant: string
  readonly now: number
  readonly timeoutSeconds: number
  readonly metadata: Readonly<Record<string, string>>
  /** More annotations the caller's front end keeps with the sandbox (e.g. the E2B API's). */
  readonly annotations?: Readonly<Record<string, string>> | undefined
}

/**
 * The one write that allocates: a merge patch carrying the Pod's resourceVersion, so the API
 * server applies it only if nobody changed the Pod since we saw it idle (else 409).
 */
export const claimPatch = (claim: Claim): object => ({
  metadata: {
    resourceVersion: claim.resourceVersion,
    labels: { [Label.state]: "allocated", [Label.sandboxId]: claim.sandboxId, [Label.tenant]: claim.tenant },
    annotations: {
      ...claim.annotations,
      [Annotation.allocatedAt]: new Date(claim.now).toISOString(),
      [Annotation.expiresAt]: new Date(claim.now + claim.timeoutSeconds * 1000).toISOString(),
      [Annotation.metadata]: JSON.stringify(claim.metadata),
    },
  },
})

/** Moves an allocated sandbox's expiry; conditional too, so an extend never races a release. */
export const expiryPatch = (resourceVersion: string, expiresAt: number): object => ({
  metadata: { resourceVersion, annotations: { [Annotation.expiresAt]: new Date(expiresAt).toISOString() } },
})
