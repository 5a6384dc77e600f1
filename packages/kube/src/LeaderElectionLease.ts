import * as k8s from "@kubernetes/client-node"
import { Effect, Option } from "effect"
import * as KubeError from "./KubeError.ts"
import type { LeaseRecord } from "./LeaderElectionDecision.ts"

/** Reads and writes the one Lease an election runs on, with optimistic concurrency. */
export interface LeaseStore {
  readonly get: Effect.Effect<Option.Option<k8s.V1Lease>, KubeError.KubeError>
  readonly create: (record: LeaseRecord) => Effect.Effect<k8s.V1Lease, KubeError.KubeError>
  /** Replaces spec; fails with reason "Conflict" when `lease` is no longer the latest version. */
  readonly replace: (
    lease: k8s.V1Lease,
    record: LeaseRecord,
  ) => Effect.Effect<k8s.V1Lease, KubeError.KubeError>
}

// The generated client hands MicroTime fields back as the server's string; tolerate a Date too.
const timeText = (value: unknown): string =>
  typeof value === "string" ? value : value instanceof Date ? value.toISOString() : ""

export const recordFromLease = (lease: k8s.V1Lease): LeaseRecord => ({
  holderIdentity: lease.spec?.holderIdentity ?? "",
  leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
  renewTime: timeText(lease.spec?.renewTime),
  acquireTime: timeText(lease.spec?.acquireTime),
  leaseTransitions: lease.spec?.leaseTransitions ?? 0,
})

// V1MicroTime serializes with the microsecond precision the API server insists on.
const microTime = (text: string): k8s.V1MicroTime | undefined =>
  text === "" ? undefined : new k8s.V1MicroTime(text)

const specFromRecord = (base: k8s.V1LeaseSpec | undefined, record: LeaseRecord): k8s.V1LeaseSpec => {
  const spec: k8s.V1LeaseSpec = {
    ...base,
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
  }
  const acquireTime = microTime(record.acquireTime)
  const renewTime = microTime(record.renewTime)
  if (acquireTime !== undefined) spec.acquireTime = acquireTime
  if (renewTime !== undefined) spec.renewTime = renewTime
  return spec
}

export const makeLeaseStore = (config: k8s.KubeConfig, namespace: string, name: string): LeaseStore => {
  const api = config.makeApiClient(k8s.CoordinationV1Api)
  const target = `coordination.k8s.io/v1/leases ${namespace}/${name}`
  return {
    get: Effect.tryPromise({
      try: () => api.readNamespacedLease({ namespace, name }),
      catch: KubeError.fromUnknown(`get ${target}`),
    }).pipe(
      Effect.map(Option.some),
      Effect.catchIf(
        (error) => error.reason === "NotFound",
        () => Effect.succeed(Option.none()),
      ),
    ),
    create: (record) =>
      Effect.tryPromise({
        try: () =>
          api.createNamespacedLease({
            namespace,
            body: {
              apiVersion: "coordination.k8s.io/v1",
              kind: "Lease",
              metadata: { name, namespace },
              spec: specFromRecord(undefined, record),
            },
          }),
        catch: KubeError.fromUnknown(`create ${target}`),
      }),
    replace: (lease, record) =>
      Effect.tryPromise({
        // metadata.resourceVersion from the read makes this a compare-and-swap.
        try: () =>
          api.replaceNamespacedLease({
            namespace,
            name,
            body: { ...lease, spec: specFromRecord(lease.spec, record) },
          }),
        catch: KubeError.fromUnknown(`replace ${target}`),
      }),
  }
}
