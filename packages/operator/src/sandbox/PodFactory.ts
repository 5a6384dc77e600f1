import { createHash, randomBytes } from "node:crypto"
import {
  ApiGroup,
  type SandboxTemplateSpec,
  sandboxContainerOf as sandboxContainerOfTemplate,
} from "@agent-sandbox/domain"
import type { Pod, PodSpec } from "kubernetes-types/core/v1.js"
import { Annotation, Label } from "./SandboxPod.ts"

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

const hash = (value: unknown): string =>
  createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 10)

/**
 * A pool's revision: a short hash of its template and of whether idle Pods run the idle image, as
 * a label value. Any change to either is a new revision for the pool's Pods to move to, except to
 * `allowedImages`: a policy on requests, nothing a Pod runs.
 */
export const revision = (template: SandboxTemplateSpec, useIdleImage = false): string => {
  const { allowedImages: _policy, ...pod } = template
  return hash(useIdleImage ? { template: pod, useIdleImage } : pod)
}

/**
 * The template's Pod with every container image blanked: two revisions of equal shape differ in
 * images only, which a Pod can take in place (a container's image is the one mutable field that a
 * kubelet applies to a running Pod by restarting that container). Runtimes and the idle image are
 * not part of it: they only choose images.
 */
export const shape = (template: SandboxTemplateSpec): string =>
  hash({
    containerName: template.containerName ?? template.podTemplate.spec.containers[0].name,
    podTemplate: {
      ...template.podTemplate,
      spec: {
        ...template.podTemplate.spec,
        containers: template.podTemplate.spec.containers.map((c) => ({ ...c, image: undefined })),
      },
    },
  })

export const sandboxContainerOf = sandboxContainerOfTemplate

/** The image idle Pods sit on: the idle image when the pool asks for it, else the sandbox container's. */
export const idleImageOf = (template: SandboxTemplateSpec, useIdleImage: boolean): string | undefined => {
  const container = sandboxContainerOf(template)
  return useIdleImage && template.idleImage !== undefined ? template.idleImage : container?.image
}

/** What the pool's idle Pods should be now: its revision, shape and each container's image. */
export interface PodTarget {
  readonly revision: string
  readonly shape: string
  readonly containerName: string
  /** Each container's image on an idle Pod (the sandbox container on the pool image). */
  readonly images: Readonly<Record<string, string>>
  /** The sandbox container's image on an idle Pod. */
  readonly poolImage: string
  /** The image a request that names none gets: the template's sandbox container image. */
  readonly defaultImage: string
  /** The template's own labels and annotations: a Pod keeps them whoever used it. */
  readonly labels: Readonly<Record<string, string>>
  readonly annotations: Readonly<Record<string, string>>
}

/**
 * Targets made so far, by template object: a template from the watch is never changed once received
 * (a change arrives as a new object), and every reconcile and every Pod created asks for its
 * target, whose revision and shape are two hashes of the whole template.
 */
const targets = new WeakMap<SandboxTemplateSpec, Map<boolean, PodTarget>>()

export const target = (template: SandboxTemplateSpec, useIdleImage: boolean): PodTarget => {
  let known = targets.get(template)
  if (known === undefined) {
    known = new Map()
    targets.set(template, known)
  }
  const found = known.get(useIdleImage)
  if (found !== undefined) return found
  const made = targetFresh(template, useIdleImage)
  known.set(useIdleImage, made)
  return made
}

const targetFresh = (template: SandboxTemplateSpec, useIdleImage: boolean): PodTarget => {
  const sandbox = sandboxContainerOf(template)
  const poolImage = idleImageOf(template, useIdleImage) ?? sandbox.image ?? ""
  return {
    revision: revision(template, useIdleImage),
    shape: shape(template),
    containerName: sandbox.name,
    images: Object.fromEntries(
      template.podTemplate.spec.containers.map((c) => [c.name, c === sandbox ? poolImage : (c.image ?? "")]),
    ),
    poolImage,
    defaultImage: sandbox.image ?? poolImage,
    labels: template.podTemplate.metadata?.labels ?? {},
    annotations: template.podTemplate.metadata?.annotations ?? {},
  }
}

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
 * An idle sandbox Pod of the pool: the template's Pod, labelled idle with its revision and shape,
 * owned by the pool (so deleting the pool garbage-collects its Pods), without a service-account
 * token unless the template asks for one (a sandbox runs untrusted code).
 */
export const build = ({ pool, template, useIdleImage, name }: PodBlueprint): Pod => {
  const wanted = target(template, useIdleImage)
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
        [Label.revision]: wanted.revision,
        [Label.shape]: wanted.shape,
      },
      annotations: { ...meta?.annotations, [Annotation.container]: wanted.containerName },
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
      containers: spec.containers.map((c) => ({ ...c, image: wanted.images[c.name] ?? c.image })),
    } as unknown as PodSpec,
  }
}
