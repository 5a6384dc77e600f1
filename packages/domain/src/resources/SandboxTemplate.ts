import { Schema } from "effect"
import { apiVersion, kinds } from "../ApiGroup.ts"
import { celRule, listMap } from "../crd/KubeExtensions.ts"
import { Conditions } from "./Condition.ts"
import { DnsLabel, NonNegativeInt } from "./Names.ts"
import { apiVersionDescription, kindDescription, ObjectMeta, typeMetaField } from "./ObjectMeta.ts"
import { PodTemplate } from "./PodTemplate.ts"
import { Runtime } from "./Runtime.ts"

const SandboxTemplateFields = Schema.Struct({
  podTemplate: PodTemplate,
  containerName: Schema.optionalWith(DnsLabel, { exact: true }).annotations({
    description:
      "The container in podTemplate that runs the sandbox: its image is swapped for a runtime's and commands run in it. Default: the first container.",
  }),
  idleImage: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { exact: true }).annotations({
    description:
      "A small image the sandbox container of idle Pods can run while they wait (used by pools with useIdleImage: true), so warm Pods cost little until allocated.",
  }),
  runtimes: Schema.optionalWith(Schema.Array(Runtime).pipe(listMap("name")), {
    exact: true,
    default: () => [],
  }).annotations({
    description:
      "Named images a request can select; the sandbox container switches to one in place on allocation.",
  }),
  allowedImages: Schema.optionalWith(
    Schema.Array(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024))).pipe(Schema.maxItems(256)),
    { exact: true },
  ).annotations({
    description:
      "Images a request may name outright (REST `image`) besides the template's own and its runtimes': an entry ending in '/', ':' or '@' is a prefix ('ghcr.io/acme/'); 'sha256:<hex>' is a digest (any repository); any other entry is a repository, with any tag or digest ('python' allows 'python:3.12'). Unset or empty: requests may name no other image. Changing it does not roll the pool's Pods.",
  }),
})

/** What a template describes; also the shape of a SandboxPool's inline `template`. */
export const SandboxTemplateSpec = SandboxTemplateFields.pipe(
  celRule(
    {
      rule: "!has(self.containerName) || self.podTemplate.spec.containers.exists(c, c.name == self.containerName)",
      message: "containerName must name one of podTemplate.spec.containers",
    },
    (spec) =>
      spec.containerName === undefined ||
      spec.podTemplate.spec.containers.some((container) => container.name === spec.containerName),
  ),
  Schema.annotations({
    description:
      "The Pods a sandbox runs in: a Pod template, which of its containers is the sandbox, an optional idle image and the runtimes requests can choose from.",
  }),
)
export type SandboxTemplateSpec = typeof SandboxTemplateSpec.Type

/** The sandbox container's name: `containerName`, or the first container's. */
export const sandboxContainerName = (spec: SandboxTemplateSpec): string =>
  spec.containerName ?? spec.podTemplate.spec.containers[0].name

/** The sandbox container of a template: the one `containerName` names, else the Pod's first. */
export const sandboxContainerOf = (spec: SandboxTemplateSpec) =>
  spec.podTemplate.spec.containers.find((c) => c.name === spec.containerName) ??
  spec.podTemplate.spec.containers[0]

export const SandboxTemplateStatus = Schema.Struct({
  observedGeneration: Schema.optionalWith(NonNegativeInt, { exact: true }).annotations({
    description: "The metadata.generation this status was computed from.",
  }),
  revision: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description:
      "A hash of the spec. Pools compare it with their Pods' revision to roll a template change out (in place where only images differ).",
  }),
  conditions: Schema.optionalWith(Conditions, { exact: true }),
}).annotations({ description: "What the operator last observed of this template." })
export type SandboxTemplateStatus = typeof SandboxTemplateStatus.Type

/** A SandboxTemplate as the API server serves it (defaults filled in). Cluster-scoped. */
export const SandboxTemplate = Schema.Struct({
  apiVersion: typeMetaField(apiVersion, apiVersionDescription),
  kind: typeMetaField(kinds.SandboxTemplate, kindDescription),
  metadata: ObjectMeta,
  spec: SandboxTemplateSpec,
  status: Schema.optionalWith(SandboxTemplateStatus, { exact: true }),
}).annotations({
  description:
    "SandboxTemplate describes the Pods sandboxes run in (a Pod template, an optional idle image and selectable runtimes). Cluster-scoped: pools in any namespace refer to it by name.",
})
export type SandboxTemplate = typeof SandboxTemplate.Type
