/**
 * The operator's parts, for its own tests, the test harness and the benchmarks only: front doors
 * use the package entry (index.ts), and the dependency check keeps them to it.
 */

export * as WarmQueue from "./allocation/WarmQueue.ts"
export * as ClusterState from "./cluster/ClusterState.ts"
export * as PoolPlan from "./pool/PoolPlan.ts"
export * as CachedPod from "./sandbox/CachedPod.ts"
export * as PodFactory from "./sandbox/PodFactory.ts"
export * as SandboxId from "./sandbox/SandboxId.ts"
export * as SandboxPod from "./sandbox/SandboxPod.ts"
