import { createHash, randomBytes } from "node:crypto"
import { ApiGroup, type SandboxTemplateSpec } from "@agent-sandbox/domain"
import type { Pod, PodSpec } from "kubernetes-types/core/v1.js"
import { Label } from "../sandbox/SandboxPod.ts"

/** JSON with object keys sorted, so equal specs hash equally whatever order they were written in. */
const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
  }
  return JSON.stringify(value)
}

/** A template's revision: a short hash of its spec, as a label value. */
export const revision = (template: SandboxTemplateSpec): string =>
  createHash("sha256").update(canonicalJson(template)).digest("hex").slice(0, 10)

/** The image idle Pods sit on: the idle image when the pool asks for it, else the sandbox container's. */
export const idleImageOf = (template: SandboxTemplateSpec, useIdleImage: boolean): string | undefined => {
  const container = sandboxContainerOf(template)
  return useIdleImage && template.idleImage !== undefined ? template.idleImage : container?.image
}

export const sandboxContainerOf = (template: SandboxTemplateSpec) =>
  template.podTemplate.spec.containers.find((c) => c.name === template.containerName) ??
  template.podTemplate.spec.containers[0]

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
/** A random DNS-safe suffix; names are chosen here (not generateName) so creates can be expected. */
export const podName = (pool: string): string => {
  const bytes = randomBytes(8)
  const suffix = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("")
  return `${pool.slice(0, 63 - 9)}-${suffix}`
}

export interface PodBlueprint {
  readonly pool: { readonly name: string; readonly namespace: string; readonly uid: string }
  readonly template: SandboxTemplateSpec
  readonly useIdleImage: boolean
  readonly name: string
}

/**
 * An idle sandbox Pod of the pool: the template's Pod, labelled idle, owned by the pool (so
 * deleting the pool garbage-collects its Pods), without a service-account token unless the
 * template asks for one (a sandbox runs untrusted code).
 */
export const build = ({ pool, template, useIdleImage, name }: PodBlueprint): Pod => {
  const sandbox = sandboxContainerOf(template)
  const image = idleImageOf(template, useIdleImage)
  const meta = template.podTemplate.metadata
  const spec = template.podTemplate.spec
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: pool.namespace,
      labels: {
        ...meta?.labels,
        [Label.pool]: pool.name,
        [Label.state]: "idle",
        [Label.revision]: revision(template),
      },
      ...(meta?.annotations === undefined ? {} : { annotations: meta.annotations }),
      ownerReferences: [
        {
          apiVersion: ApiGroup.apiVersion,
          kind: ApiGroup.kinds.SandboxPool,
          name: pool.name,
          uid: pool.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    // The template's spec passes through as the API server stored it (validated there).
    spec: {
      automountServiceAccountToken: false,
      ...spec,
      containers: spec.containers.map((c) => (c === sandbox && image !== undefined ? { ...c, image } : c)),
    } as unknown as PodSpec,
  }
}
