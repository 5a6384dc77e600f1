import { type CreateSandboxRequest, CurrentTenant } from "@agent-sandbox/domain"
import type { AllocationRequest } from "@agent-sandbox/operator"
import { Effect } from "effect"
import type { TenantGateShape } from "../tenancy/TenantGate.ts"

/**
 * The operator's allocation request for a REST or RPC create (a batch is a create with a count),
 * as the authenticated tenant, in the server's default namespace unless the request names one.
 */
export const fromCreate = (
  payload: CreateSandboxRequest,
  defaultNamespace: string,
): Effect.Effect<AllocationRequest, never, CurrentTenant> =>
  Effect.map(CurrentTenant, (tenant) => ({
    namespace: payload.namespace ?? defaultNamespace,
    pool: payload.pool,
    tenant: tenant.name,
    timeoutSeconds: payload.timeoutSeconds,
    metadata: payload.metadata,
    runtime: payload.runtime,
    image: payload.image,
    wait: payload.wait,
  }))

/** Runs the allocation of `count` sandboxes for `request` through the gate, as the authenticated tenant. */
export const admitted =
  (gate: TenantGateShape, request: AllocationRequest, count: number) =>
  <A, E, R>(allocation: Effect.Effect<A, E, R>) =>
    Effect.flatMap(CurrentTenant, (tenant) => gate.admit(tenant, request, count)(allocation))
