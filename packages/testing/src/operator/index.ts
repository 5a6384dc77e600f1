// @agent-sandbox/testing/operator: operator replicas (in this process or a child), pools, API keys
// and audits of the cluster's record, for the suites and benchmarks that run the whole operator.
// This entry depends on @agent-sandbox/server (and operator, domain); the package's main entry
// depends on kube only.
export * as E2bOperator from "./E2bOperator.ts"
export * as InPlace from "./InPlace.ts"
export * as Leader from "./Leader.ts"
export * as OperatorHarness from "./OperatorHarness.ts"
export * as OperatorNamespaces from "./OperatorNamespaces.ts"
export * as OperatorProcess from "./OperatorProcess.ts"
export * as PodAudit from "./PodAudit.ts"
export * as PoolStatus from "./PoolStatus.ts"
export * as Pools from "./Pools.ts"
export * as SandboxCrds from "./SandboxCrds.ts"
