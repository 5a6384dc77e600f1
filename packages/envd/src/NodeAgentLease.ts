/**
 * How a node agent tells the E2B data plane it serves a node: a coordination.k8s.io Lease per
 * node in the system namespace, renewed while the agent runs and deleted when it stops, naming
 * the node (holderIdentity) and the agent's address (an annotation). The data plane forwards a
 * sandbox's requests to the live agent of the sandbox's node, and to exec through the API server
 * where there is none (a KWOK node, a node without the agent, an agent that stopped renewing).
 */
import type { Lease } from "kubernetes-types/coordination/v1.js"

export const label = "agent-sandbox.dev/node-agent"
export const addressAnnotation = "agent-sandbox.dev/node-agent-address"

export const nameOf = (node: string): string => `node-agent-${node}`

/** RFC 3339 with six fractional digits, as the API server wants a MicroTime. */
const microTime = (millis: number): string => new Date(millis).toISOString().replace(/Z$/, "000Z")

export const make = (options: {
  readonly namespace: string
  readonly node: string
  readonly address: string
  readonly now: number
  readonly durationSeconds: number
}) => ({
  apiVersion: "coordination.k8s.io/v1" as const,
  kind: "Lease" as const,
  metadata: {
    name: nameOf(options.node),
    namespace: options.namespace,
    labels: { [label]: "true" },
    annotations: { [addressAnnotation]: options.address },
  },
  spec: {
    holderIdentity: options.node,
    leaseDurationSeconds: options.durationSeconds,
    renewTime: microTime(options.now),
  },
})

/** The agent's address when the Lease is live at `now`; undefined when it lapsed or is malformed. */
export const liveAddress = (lease: Lease, now: number): string | undefined => {
  const address = lease.metadata?.annotations?.[addressAnnotation]
  const renewed = Date.parse(lease.spec?.renewTime ?? "")
  const duration = lease.spec?.leaseDurationSeconds
  if (address === undefined || Number.isNaN(renewed) || duration === undefined) return undefined
  return now <= renewed + duration * 1000 ? address : undefined
}
