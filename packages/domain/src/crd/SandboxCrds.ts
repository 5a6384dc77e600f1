import { Either } from "effect"
import { category, group, kinds, plurals, shortNames, singulars, version } from "../ApiGroup.ts"
import { SandboxPool } from "../resources/SandboxPool.ts"
import { SandboxTemplate } from "../resources/SandboxTemplate.ts"
import * as CustomResourceDefinition from "./CustomResourceDefinition.ts"
import type { UnsupportedSchema } from "./StructuralSchema.ts"

const age: CustomResourceDefinition.PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
}

export const sandboxTemplateResource: CustomResourceDefinition.CustomResource<
  typeof SandboxTemplate.Type,
  typeof SandboxTemplate.Encoded
> = {
  group,
  version,
  kind: kinds.SandboxTemplate,
  plural: plurals.SandboxTemplate,
  singular: singulars.SandboxTemplate,
  shortNames: [shortNames.SandboxTemplate],
  categories: [category],
  scope: "Cluster",
  schema: SandboxTemplate,
  printerColumns: [
    {
      name: "Idle-Image",
      type: "string",
      jsonPath: ".spec.idleImage",
      description: "The image idle Pods run when a pool sets useIdleImage",
    },
    {
      name: "Container",
      type: "string",
      jsonPath: ".spec.containerName",
      description: "The sandbox container (empty: the first container)",
      priority: 1,
    },
    {
      name: "Revision",
      type: "string",
      jsonPath: ".status.revision",
      description: "Hash of the spec",
      priority: 1,
    },
    age,
  ],
}

export const sandboxPoolResource: CustomResourceDefinition.CustomResource<
  typeof SandboxPool.Type,
  typeof SandboxPool.Encoded
> = {
  group,
  version,
  kind: kinds.SandboxPool,
  plural: plurals.SandboxPool,
  singular: singulars.SandboxPool,
  shortNames: [shortNames.SandboxPool],
  categories: [category],
  scope: "Namespaced",
  schema: SandboxPool,
  scale: {
    specReplicasPath: ".spec.replicas",
    // spec.replicas is the warm idle target, so the observed value that answers it is the idle
    // count, not every Pod: allocated Pods leave the warm set (and are replaced), and counting
    // them would make HPA's proportional rule (desired = current x metric/target) grow the warm
    // pool with every sandbox in use. HPA takes its "current replicas" from spec.replicas and
    // uses this value only to weigh Object/External metrics; AverageValue targets (KEDA's
    // default) depend on it least.
    statusReplicasPath: ".status.idleReplicas",
    labelSelectorPath: ".status.selector",
  },
  printerColumns: [
    {
      name: "Template",
      type: "string",
      jsonPath: ".status.templateName",
      description: 'The SandboxTemplate the pool follows, or "inline"',
    },
    { name: "Desired", type: "integer", jsonPath: ".spec.replicas", description: "Warm idle Pods wanted" },
    { name: "Idle", type: "integer", jsonPath: ".status.idleReplicas", description: "Ready Pods waiting" },
    {
      name: "Allocated",
      type: "integer",
      jsonPath: ".status.allocatedReplicas",
      description: "Pods serving a sandbox",
    },
    {
      name: "Starting",
      type: "integer",
      jsonPath: ".status.startingReplicas",
      description: "Pods not ready yet",
    },
    {
      name: "Failed",
      type: "integer",
      jsonPath: ".status.failedReplicas",
      description: "Failed Pods awaiting replacement",
      priority: 1,
    },
    {
      name: "Max-Pods",
      type: "integer",
      jsonPath: ".spec.maxPods",
      description: "Cap on the pool's Pods",
      priority: 1,
    },
    {
      name: "Revision",
      type: "string",
      jsonPath: ".status.updateRevision",
      description: "Template revision of new Pods",
      priority: 1,
    },
    age,
  ],
}

/** Both CRDs, in a stable order. */
export const all = (): Either.Either<
  ReadonlyArray<CustomResourceDefinition.CustomResourceDefinition>,
  UnsupportedSchema
> =>
  Either.all([
    CustomResourceDefinition.make(sandboxTemplateResource),
    CustomResourceDefinition.make(sandboxPoolResource),
  ])
