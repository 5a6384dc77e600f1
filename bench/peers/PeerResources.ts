/**
 * The peer's kinds (sigs.k8s.io/agent-sandbox v1.0.1: the `extensions.agents.x-k8s.io`
 * SandboxTemplate, SandboxWarmPool and SandboxClaim) as the benchmark
 * reaches them, and the objects it creates. Plain JSON, no schema: the benchmark reads a few fields.
 */
import { type KubeObject as Kube, ResourceType } from "@agent-sandbox/kube"

type KubeObject = Kube.KubeObject

interface Condition {
  readonly type: string
  readonly status: string
  readonly reason?: string
  readonly message?: string
}

export interface SandboxClaim extends KubeObject {
  readonly spec?: { readonly warmPoolRef: { readonly name: string } }
  readonly status?: {
    readonly conditions?: ReadonlyArray<Condition>
    readonly sandbox?: { readonly name?: string }
  }
}

export interface SandboxWarmPool extends KubeObject {
  readonly spec?: { readonly replicas?: number; readonly sandboxTemplateRef?: { readonly name: string } }
  readonly status?: { readonly replicas?: number; readonly readyReplicas?: number }
}

export interface SandboxTemplate extends KubeObject {
  readonly spec?: Record<string, unknown>
}

const extensions = "extensions.agents.x-k8s.io"

export const SandboxClaimResource = ResourceType.customResource<SandboxClaim>({
  group: extensions,
  version: "v1beta1",
  kind: "SandboxClaim",
  plural: "sandboxclaims",
  namespaced: true,
})

export const SandboxWarmPoolResource = ResourceType.customResource<SandboxWarmPool>({
  group: extensions,
  version: "v1beta1",
  kind: "SandboxWarmPool",
  plural: "sandboxwarmpools",
  namespaced: true,
})

export const SandboxTemplateResource = ResourceType.customResource<SandboxTemplate>({
  group: extensions,
  version: "v1beta1",
  kind: "SandboxTemplate",
  plural: "sandboxtemplates",
  namespaced: true,
})

/** Labels the benchmark puts on its claims, so each round's watch sees only its own. */
export const roundLabel = "bench.agent-sandbox.dev/round"

/**
 * The template: the same Pod spec as the operator's bench pool (packages/server/test/support/Pools.ts:
 * one container `sandbox` running `image`). The peer's NetworkPolicy management stays at its default.
 */
export const template = (namespace: string, name: string, image: string): SandboxTemplate => ({
  apiVersion: SandboxTemplateResource.apiVersion,
  kind: SandboxTemplateResource.kind,
  metadata: { name, namespace },
  spec: { podTemplate: { spec: { containers: [{ name: "sandbox", image }] } } },
})

export const warmPool = (namespace: string, name: string, templateName: string, replicas: number) =>
  ({
    apiVersion: SandboxWarmPoolResource.apiVersion,
    kind: SandboxWarmPoolResource.kind,
    metadata: { name, namespace },
    spec: { replicas, sandboxTemplateRef: { name: templateName } },
  }) satisfies SandboxWarmPool

/** A claim on the warm pool, as the peer's docs write one (no env, no volumes: served warm). */
export const claim = (namespace: string, name: string, pool: string, round: string): SandboxClaim => ({
  apiVersion: SandboxClaimResource.apiVersion,
  kind: SandboxClaimResource.kind,
  metadata: { name, namespace, labels: { [roundLabel]: round } },
  spec: { warmPoolRef: { name: pool } },
})

export const isReady = (claim: SandboxClaim): boolean =>
  claim.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false

/** The Ready condition's reason when it is not True (what a stuck claim waits for). */
export const notReadyReason = (claim: SandboxClaim): string => {
  const ready = claim.status?.conditions?.find((c) => c.type === "Ready")
  return ready === undefined
    ? "no Ready condition"
    : `${ready.reason ?? ready.status}: ${ready.message ?? ""}`
}

/** Full when the pool's own status counts `replicas` ready members (what its controller observed). */
export const warmPoolFull = (pool: SandboxWarmPool, replicas: number): boolean =>
  (pool.status?.readyReplicas ?? 0) >= replicas && (pool.status?.replicas ?? 0) === replicas
