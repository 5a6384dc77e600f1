import { KubeClient, Patch, ResourceType } from "@agent-sandbox/kube"
import { Effect } from "effect"

/** The operator's leader Lease (packages/server/src/OperatorServer.ts). */
export const operatorLeaseName = "agent-sandbox-operator"

/** RFC 3339 with microseconds: the API server's MicroTime format. */
const microTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z")

/**
 * Makes the benchmark hold the operator's leader Lease for an hour, so an operator started now
 * follows: it serves allocations from its cache but runs no reconciler (as a non-leader replica
 * does). A diagnostic that takes reconcile work out of the allocation's way.
 */
export const holdLeadership = (systemNamespace: string) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const now = microTime(new Date())
    const spec = {
      holderIdentity: "bench-lease-holder",
      leaseDurationSeconds: 3600,
      acquireTime: now,
      renewTime: now,
    }
    const existing = yield* Effect.either(
      client.get(ResourceType.Lease, operatorLeaseName, { namespace: systemNamespace }),
    )
    if (existing._tag === "Right") {
      yield* client.patch(ResourceType.Lease, operatorLeaseName, Patch.merge({ spec }), {
        namespace: systemNamespace,
      })
    } else {
      yield* client.create(
        ResourceType.Lease,
        { metadata: { name: operatorLeaseName, namespace: systemNamespace }, spec },
        { namespace: systemNamespace },
      )
    }
  })
