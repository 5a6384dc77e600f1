/**
 * What the extproc reads off one of this cluster's allocated sandbox Pods to route `<port>-<id>`
 * straight to it (pure). The keys are the operator's (its SandboxPod record) and the E2B API's
 * nonce; the extproc never imports the operator, so it names them from the API group here.
 */
import { ApiGroup, type PortAccess, TrafficAccessToken } from "@agent-sandbox/domain"
import type { Pod } from "kubernetes-types/core/v1.js"

export const Label = {
  pool: `${ApiGroup.keyPrefix}pool`,
  state: `${ApiGroup.keyPrefix}state`,
  sandboxId: `${ApiGroup.keyPrefix}sandbox-id`,
} as const

/** The Pods watched: allocated sandboxes only (idle ones have no id to be reached by). */
export const labelSelector = `${Label.state}=allocated`

export interface LocalSandbox {
  readonly sandboxId: string
  readonly namespace: string
  readonly pool: string
  /** The Pod's IP; undefined until the kubelet reports one. */
  readonly podIp: string | undefined
  readonly phase: string
  readonly ready: boolean
  readonly deleting: boolean
  /** The E2B API's per-allocation nonce: the traffic access token is derived from it. */
  readonly nonce: string | undefined
}

export const fromPod = (pod: Pod): LocalSandbox | undefined => {
  const labels = pod.metadata?.labels ?? {}
  const sandboxId = labels[Label.sandboxId]
  const pool = labels[Label.pool]
  if (sandboxId === undefined || pool === undefined) return undefined
  return {
    sandboxId,
    namespace: pod.metadata?.namespace ?? "",
    pool,
    podIp: pod.status?.podIP === "" ? undefined : pod.status?.podIP,
    phase: pod.status?.phase ?? "Pending",
    ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    deleting: pod.metadata?.deletionTimestamp !== undefined,
    nonce: pod.metadata?.annotations?.[TrafficAccessToken.nonceAnnotation],
  }
}

/**
 * The Pod trimmed to what `fromPod` reads (the informer keeps only this: thousands of sandboxes
 * cost little).
 */
export const trim = (pod: Pod): Pod => {
  const labels = pod.metadata?.labels ?? {}
  const nonce = pod.metadata?.annotations?.[TrafficAccessToken.nonceAnnotation]
  const meta = pod.metadata ?? {}
  const status = pod.status ?? {}
  return {
    ...(pod.apiVersion === undefined ? {} : { apiVersion: pod.apiVersion }),
    ...(pod.kind === undefined ? {} : { kind: pod.kind }),
    metadata: {
      ...(meta.name === undefined ? {} : { name: meta.name }),
      ...(meta.namespace === undefined ? {} : { namespace: meta.namespace }),
      ...(meta.uid === undefined ? {} : { uid: meta.uid }),
      ...(meta.resourceVersion === undefined ? {} : { resourceVersion: meta.resourceVersion }),
      ...(meta.deletionTimestamp === undefined ? {} : { deletionTimestamp: meta.deletionTimestamp }),
      labels: Object.fromEntries(
        Object.values(Label).flatMap((key) => (labels[key] === undefined ? [] : [[key, labels[key]]])),
      ),
      annotations: nonce === undefined ? {} : { [TrafficAccessToken.nonceAnnotation]: nonce },
    },
    status: {
      ...(status.phase === undefined ? {} : { phase: status.phase }),
      ...(status.podIP === undefined ? {} : { podIP: status.podIP }),
      conditions: (status.conditions ?? []).filter((c) => c.type === "Ready"),
    },
  }
}

/** What a request for a port of a local sandbox needs to know about it (LocalSandboxes reads it). */
export interface PortFacts {
  readonly sandbox: LocalSandbox
  readonly access: PortAccess
  /** Whether a presented traffic access token is this sandbox's; "NoKey": the key is not known here. */
  readonly tokenAccepted: (token: string) => boolean | "NoKey"
}
