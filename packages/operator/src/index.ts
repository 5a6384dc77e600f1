/** The operator as front doors see it: the Sandboxes service and the layer that runs it all. */

export * as PodStateScrubber from "./allocation/PodStateScrubber.ts"
export * as SandboxResources from "./cluster/SandboxResources.ts"
export * as OperatorMetrics from "./metrics/OperatorMetrics.ts"
export * as Operator from "./Operator.ts"
export type {
  AllocatedSandbox,
  AllocationError,
  AllocationRequest,
  Caller,
  SandboxEvent,
} from "./Sandboxes.ts"
export * as Sandboxes from "./Sandboxes.ts"
