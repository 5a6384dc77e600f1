import { Effect, Option } from "effect"
import type { Lease, LeaseSpec } from "kubernetes-types/coordination/v1.js"
import type { KubeClientShape } from "./KubeClient.ts"
import type * as KubeError from "./KubeError.ts"
import type { LeaseRecord } from "./LeaderElectionDecision.ts"
import * as ResourceType from "./ResourceType.ts"

/** Reads and writes the one Lease an election runs on, with optimistic concurrency. */
export interface LeaseStore {
  readonly get: Effect.Effect<Option.Option<Lease>, KubeError.KubeError>
  readonly create: (record: LeaseRecord) => Effect.Effect<Lease, KubeError.KubeError>
  /** Replaces spec; fails with reason "Conflict" when `lease` is no longer the latest version. */
  readonly replace: (lease: Lease, record: LeaseRecord) => Effect.Effect<Lease, KubeError.KubeError>
}

export const recordFromLease = (lease: Lease): LeaseRecord => ({
  holderIdentity: lease.spec?.holderIdentity ?? "",
  leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
  renewTime: lease.spec?.renewTime ?? "",
  acquireTime: lease.spec?.acquireTime ?? "",
  leaseTransitions: lease.spec?.leaseTransitions ?? 0,
})

/**
 * A MicroTime as the API server insists on it: RFC 3339 with six fractional digits. Our own
 * timestamps come from `Date.toISOString` (three); what the server wrote passes unchanged.
 */
export const microTime = (text: string): string | undefined =>
  text === "" ? undefined : text.replace(/^(.*T\d\d:\d\d:\d\d\.\d{3})Z$/, "$1000Z")

const specFromRecord = (base: LeaseSpec | undefined, record: LeaseRecord): LeaseSpec => {
  const acquireTime = microTime(record.acquireTime)
  const renewTime = microTime(record.renewTime)
  return {
    ...base,
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
    ...(acquireTime === undefined ? {} : { acquireTime }),
    ...(renewTime === undefined ? {} : { renewTime }),
  }
}

/** The Lease `namespace/name` through the client's own transport. */
export const makeLeaseStore = (client: KubeClientShape, namespace: string, name: string): LeaseStore => ({
  get: client.get(ResourceType.Lease, name, { namespace }).pipe(
    Effect.map(Option.some),
    Effect.catchIf(
      (error) => error.reason === "NotFound",
      () => Effect.succeed(Option.none()),
    ),
  ),
  create: (record) =>
    client.create(
      ResourceType.Lease,
      {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace },
        spec: specFromRecord(undefined, record),
      },
      { namespace },
    ),
  // metadata.resourceVersion from the read makes this a compare-and-swap.
  replace: (lease, record) =>
    client.replace(ResourceType.Lease, { ...lease, spec: specFromRecord(lease.spec, record) }, { namespace }),
})
