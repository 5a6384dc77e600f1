/**
 * The NetworkPolicy a pool's `spec.network` asks for (pure): it selects the pool's Pods by their
 * pool label, is owned by the pool (garbage-collected with it) and says only what the pool
 * restricts. undefined: the pool wants no policy (no `network`, or both directions open).
 */
import { ApiGroup, type PoolNetwork, type SandboxPool } from "@agent-sandbox/domain"
import type { NetworkPolicy, NetworkPolicyEgressRule } from "kubernetes-types/networking/v1.js"
import { Label } from "../sandbox/SandboxPod.ts"

/** One policy per pool, by a fixed name, so a stale cache can never make a second one. */
export const nameOf = (poolName: string): string => `sandbox-pool-${poolName}`

const dnsRule: NetworkPolicyEgressRule = {
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
}

const egressRules = (egress: PoolNetwork["egress"]): Array<NetworkPolicyEgressRule> => {
  const allowed =
    egress.mode === "AllowList"
      ? (egress.allow ?? []).map(
          (entry): NetworkPolicyEgressRule => ({
            to: [
              {
                ipBlock: {
                  cidr: entry.cidr,
                  ...(entry.except === undefined ? {} : { except: [...entry.except] }),
                },
              },
            ],
            ...(entry.ports === undefined
              ? {}
              : { ports: entry.ports.map(({ port, protocol }) => ({ port, protocol })) }),
          }),
        )
      : []
  return [...(egress.dns ? [dnsRule] : []), ...allowed]
}

export const wanted = (pool: SandboxPool): NetworkPolicy | undefined => {
  const network = pool.spec.network
  if (network === undefined) return undefined
  const restrictEgress = network.egress.mode !== "Allow"
  const restrictIngress = network.ingress.mode === "Deny"
  if (!restrictEgress && !restrictIngress) return undefined
  const poolName = pool.metadata.name ?? ""
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: nameOf(poolName),
      namespace: pool.metadata.namespace ?? "",
      labels: { [Label.pool]: poolName },
      ownerReferences: [
        {
          apiVersion: ApiGroup.apiVersion,
          kind: ApiGroup.kinds.SandboxPool,
          name: poolName,
          uid: pool.metadata.uid ?? "",
          controller: true,
        },
      ],
    },
    spec: {
      podSelector: { matchLabels: { [Label.pool]: poolName } },
      policyTypes: [...(restrictIngress ? ["Ingress"] : []), ...(restrictEgress ? ["Egress"] : [])],
      // An empty list of rules allows nothing in that direction.
      ...(restrictIngress ? { ingress: [] } : {}),
      ...(restrictEgress ? { egress: egressRules(network.egress) } : {}),
    },
  }
}
