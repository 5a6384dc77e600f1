import { Schema } from "effect"
import { apiVersion, kinds } from "../ApiGroup.ts"
import { celRule } from "../crd/KubeExtensions.ts"
import { Conditions } from "./Condition.ts"
import { DnsSubdomain, NonNegativeInt, Timestamp } from "./Names.ts"
import { apiVersionDescription, kindDescription, ObjectMeta, typeMetaField } from "./ObjectMeta.ts"
import { PoolNetwork } from "./PoolNetwork.ts"
import {
  IntOrPercent,
  PoolAutoscaling,
  RecyclePolicy,
  SandboxTimeouts,
  UpdateStrategy,
} from "./PoolPolicies.ts"
import { SandboxTemplateSpec } from "./SandboxTemplate.ts"

export const TemplateRef = Schema.Struct({
  name: DnsSubdomain.annotations({ description: "The name of the (cluster-scoped) SandboxTemplate." }),
}).annotations({ description: "The SandboxTemplate the pool's Pods are made from." })
export type TemplateRef = typeof TemplateRef.Type

// Omitted policy blocks decode to their fields' defaults, as the API server fills them in.
const SandboxTimeoutsDefaults = Schema.decodeSync(SandboxTimeouts)({})
const UpdateStrategyDefaults = Schema.decodeSync(UpdateStrategy)({})
const RecyclePolicyDefaults = Schema.decodeSync(RecyclePolicy)({})

/** Who may reach a sandbox's ports through the gateway (docs/cross-cluster.md, "Any port of a sandbox"). */
export const PortAccess = Schema.Literal("Public", "Private").annotations({
  description:
    "Who may reach the ports of the pool's sandboxes (any port but envd's) through the gateway as `<port>-<sandbox id>.<domain>` (E2B's getHost): \"Public\" (default), anyone who knows the host name; \"Private\", only requests carrying the sandbox's traffic access token (E2B's trafficAccessToken) in the header e2b-traffic-access-token, which the E2B API gives its tenant.",
})
export type PortAccess = typeof PortAccess.Type

const SandboxPoolFields = Schema.Struct({
  templateRef: Schema.optionalWith(TemplateRef, { exact: true }).annotations({
    description:
      "The SandboxTemplate the pool's Pods are made from. Exactly one of templateRef and template is set.",
  }),
  template: Schema.optionalWith(SandboxTemplateSpec, { exact: true }).annotations({
    description:
      "A template written into the pool itself, in place of templateRef (same fields as a SandboxTemplate's spec). Exactly one of templateRef and template is set.",
  }),
  replicas: Schema.optionalWith(NonNegativeInt, { exact: true, default: () => 1 }).annotations({
    description:
      "How many idle, ready Pods the pool keeps warm for instant allocation (default 1). Allocated Pods are replaced, so they do not count. The scale subresource sets this field (kubectl scale, HPA, KEDA).",
  }),
  maxPods: Schema.optionalWith(NonNegativeInt, { exact: true }).annotations({
    description:
      "A cap on all the pool's Pods together (idle, starting, allocated, recycling). At the cap the pool creates no more Pods and allocations wait for a release. Unset: no cap.",
  }),
  burstReserve: Schema.optionalWith(IntOrPercent, { exact: true, default: () => "25%" }).annotations({
    description:
      'During a burst of allocations (one within the last second, nobody waiting) the pool refills only below this many warm Pods, a count or a percentage of the warm target (default "25%"), one Pod per Pod allocated; the rest follows once allocations pause for a second. A refill costs the API server several writes and an allocation one, so the burst is served first. "100%" refills at once.',
  }),
  autoscaling: Schema.optionalWith(PoolAutoscaling, { exact: true }),
  sandbox: Schema.optionalWith(SandboxTimeouts, { exact: true, default: () => SandboxTimeoutsDefaults }),
  useIdleImage: Schema.optionalWith(Schema.Boolean, { exact: true, default: () => false }).annotations({
    description:
      "false (default): idle Pods already run the pool's image, so an allocation of that image is instant. true: idle Pods run the template's idleImage to save resources, and every allocation swaps the image in place first.",
  }),
  updateStrategy: Schema.optionalWith(UpdateStrategy, { exact: true, default: () => UpdateStrategyDefaults }),
  recyclePolicy: Schema.optionalWith(RecyclePolicy, { exact: true, default: () => RecyclePolicyDefaults }),
  network: Schema.optionalWith(PoolNetwork, { exact: true }),
  portAccess: Schema.optionalWith(PortAccess, { exact: true, default: () => "Public" as const }),
})

export const SandboxPoolSpec = SandboxPoolFields.pipe(
  celRule(
    {
      rule: "has(self.templateRef) != has(self.template)",
      message: "exactly one of spec.templateRef and spec.template must be set",
    },
    (spec) => (spec.templateRef === undefined) !== (spec.template === undefined),
  ),
  Schema.annotations({
    description:
      "A pool of warm sandbox Pods: where its Pods come from (templateRef or an inline template), how many stay warm, sandbox timeouts, and how Pods are updated and recycled.",
  }),
)
export type SandboxPoolSpec = typeof SandboxPoolSpec.Type

const count = (description: string) =>
  Schema.optionalWith(NonNegativeInt, { exact: true, default: () => 0 }).annotations({ description })

export const SandboxPoolStatus = Schema.Struct({
  replicas: count("All Pods the pool has, in any state."),
  idleReplicas: count("Ready Pods waiting to be allocated (the warm pool)."),
  allocatedReplicas: count("Pods serving a sandbox."),
  startingReplicas: count("Pods created or being updated that are not ready yet."),
  recyclingReplicas: count("Released Pods being wiped for reuse or deleted."),
  failedReplicas: count("Pods that failed and are waiting to be replaced."),
  updatedReplicas: count("Pods at updateRevision."),
  currentRevision: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description:
      "The template revision of the pool's oldest Pods; equals updateRevision once a rollout completes.",
  }),
  updateRevision: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description: "The template revision new and updated Pods get (a hash of the template spec).",
  }),
  templateName: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description:
      'The SandboxTemplate the pool follows, or "inline" for an inline template (shown by kubectl get).',
  }),
  observedGeneration: Schema.optionalWith(NonNegativeInt, { exact: true }).annotations({
    description: "The metadata.generation this status was computed from.",
  }),
  lastAllocationTime: Schema.optionalWith(Timestamp, { exact: true }).annotations({
    description:
      "When a sandbox was last allocated from the pool (or a caller last waited for one): the clock autoscaling's scale to zero runs on.",
  }),
  selector: Schema.optionalWith(Schema.String, { exact: true }).annotations({
    description: "The label selector of the pool's Pods, in string form (read by the scale subresource).",
  }),
  conditions: Schema.optionalWith(Conditions, { exact: true }),
}).annotations({ description: "What the operator last observed of this pool." })
export type SandboxPoolStatus = typeof SandboxPoolStatus.Type

/** A SandboxPool as the API server serves it (defaults filled in). Namespaced. */
export const SandboxPool = Schema.Struct({
  apiVersion: typeMetaField(apiVersion, apiVersionDescription),
  kind: typeMetaField(kinds.SandboxPool, kindDescription),
  metadata: ObjectMeta,
  spec: SandboxPoolSpec,
  status: Schema.optionalWith(SandboxPoolStatus, { exact: true }),
}).annotations({
  description:
    "SandboxPool keeps a number of sandbox Pods warm (scheduled, pulled, started and ready) so a sandbox can be handed out in milliseconds.",
})
export type SandboxPool = typeof SandboxPool.Type
