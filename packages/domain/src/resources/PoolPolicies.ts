import { Schema } from "effect"
import { celRule } from "../crd/KubeExtensions.ts"
import { NonNegativeInt } from "./Names.ts"

const Seconds = Schema.Int.pipe(Schema.greaterThanOrEqualTo(1))

export const SandboxTimeouts = Schema.Struct({
  defaultTimeoutSeconds: Schema.optionalWith(Seconds, { exact: true, default: () => 300 }).annotations({
    description: "How long a sandbox lives when the request names no timeout, in seconds (default 300).",
  }),
  maxTimeoutSeconds: Schema.optionalWith(Seconds, { exact: true, default: () => 86400 }).annotations({
    description:
      "The longest timeout a request may ask for or extend a sandbox to, in seconds (default 86400, one day).",
  }),
  startupTimeoutSeconds: Schema.optionalWith(Seconds, { exact: true, default: () => 60 }).annotations({
    description:
      "How long an allocation waits for a sandbox to become ready (a warm Pod, or a Pod switching to another runtime's image) before failing, in seconds (default 60).",
  }),
}).pipe(
  celRule(
    {
      rule: "self.defaultTimeoutSeconds <= self.maxTimeoutSeconds",
      message: "defaultTimeoutSeconds must not exceed maxTimeoutSeconds",
    },
    (timeouts) => timeouts.defaultTimeoutSeconds <= timeouts.maxTimeoutSeconds,
  ),
  Schema.annotations({ description: "Timeouts of the sandboxes allocated from this pool." }),
)
export type SandboxTimeouts = typeof SandboxTimeouts.Type

export const PoolAutoscaling = Schema.Struct({
  enabled: Schema.optionalWith(Schema.Boolean, { exact: true, default: () => true }).annotations({
    description:
      "Whether the operator sizes the warm pool from allocation demand (default true). Leave autoscaling out, or set false, when an HPA or KEDA drives spec.replicas through the scale subresource.",
  }),
  minReplicas: Schema.optionalWith(NonNegativeInt, { exact: true, default: () => 1 }).annotations({
    description: "The fewest idle Pods the autoscaler keeps warm while the pool is in use (default 1).",
  }),
  maxReplicas: Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)).annotations({
    description: "The most idle Pods the autoscaler keeps warm, however high the demand.",
  }),
  scaleToZeroAfterSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)), {
    exact: true,
  }).annotations({
    description:
      "After this many seconds without an allocation the autoscaler lets the pool drop to zero idle Pods, below minReplicas. Unset: never scale to zero.",
  }),
}).pipe(
  celRule(
    { rule: "self.minReplicas <= self.maxReplicas", message: "minReplicas must not exceed maxReplicas" },
    (autoscaling) => autoscaling.minReplicas <= autoscaling.maxReplicas,
  ),
  Schema.annotations({
    description:
      "The built-in autoscaler: sizes the warm target between minReplicas and maxReplicas from demand.",
  }),
)
export type PoolAutoscaling = typeof PoolAutoscaling.Type

/** An absolute count or a percentage of the pool, like a Deployment's maxUnavailable. */
export const IntOrPercent = Schema.Union(
  NonNegativeInt,
  Schema.String.pipe(Schema.pattern(/^(100|[1-9]?[0-9])%$/)),
)
export type IntOrPercent = typeof IntOrPercent.Type

export const UpdateStrategyType = Schema.Literal("InPlace", "Recreate").annotations({
  description:
    "InPlace: idle Pods whose only difference from the new revision is images get the new images in place (kubelet restarts just those containers); Pods with other differences are recreated. Recreate: idle Pods of an old revision are deleted and replaced.",
})
export type UpdateStrategyType = typeof UpdateStrategyType.Type

export const UpdateStrategy = Schema.Struct({
  type: Schema.optionalWith(UpdateStrategyType, {
    exact: true,
    default: () => "InPlace" as const,
  }).annotations({
    description:
      "How idle Pods move to a new template revision: InPlace (default) swaps images in place where that is the only change; Recreate replaces them. Allocated Pods are never touched until released.",
  }),
  maxUnavailable: Schema.optionalWith(IntOrPercent, { exact: true, default: () => 1 }).annotations({
    description:
      'How many idle Pods may be updating at once: a count, or a percentage of the pool such as "25%" (default 1).',
  }),
}).annotations({ description: "How a template change rolls out to the pool's idle Pods." })
export type UpdateStrategy = typeof UpdateStrategy.Type

export const RecyclePolicyType = Schema.Literal("InPlace", "Delete").annotations({
  description:
    "InPlace: the released Pod's sandbox container goes back to the pool image and restarts, which wipes its filesystem, and the Pod rejoins the idle set. Delete: the Pod is deleted and a fresh one replaces it.",
})
export type RecyclePolicyType = typeof RecyclePolicyType.Type

export const RecyclePolicy = Schema.Struct({
  type: Schema.optionalWith(RecyclePolicyType, {
    exact: true,
    default: () => "InPlace" as const,
  }).annotations({
    description:
      "What happens to a Pod when its sandbox is released or expires: InPlace (default) restarts it clean and reuses it; Delete replaces it.",
  }),
  maxReuses: Schema.optionalWith(NonNegativeInt, { exact: true }).annotations({
    description:
      "How many times one Pod may be recycled in place before it is deleted instead (0: never reuse). Unset: no limit.",
  }),
  acceptPodStateCarryOver: Schema.optionalWith(Schema.Boolean, {
    exact: true,
    default: () => false,
  }).annotations({
    description:
      "false (default): a Pod is recycled in place only where a node agent serves its node and clears the Pod's own state (/dev/shm, SysV shared memory, message queues, semaphores) before the Pod is offered again; elsewhere it is deleted (reason PodState). true: recycle in place without a node agent too, accepting that the next tenant of the Pod may find what the last one left in /dev/shm and the Pod's IPC namespace.",
  }),
}).annotations({ description: "What happens to a Pod after its sandbox ends." })
export type RecyclePolicy = typeof RecyclePolicy.Type
