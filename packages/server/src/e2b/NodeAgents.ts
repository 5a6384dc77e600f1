/**
 * Which nodes have a live node agent, and its address: a watch of the agents' Leases in the
 * system namespace (see envd's NodeAgentLease), read per request from the informer's store.
 */
import { NodeAgentLease } from "@agent-sandbox/envd"
import { Informer, type KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Clock, Context, Effect, Layer } from "effect"

export interface NodeAgentsShape {
  /** The address of the live agent on `node`; undefined when none serves it. */
  readonly addressOf: (node: string | undefined) => Effect.Effect<string | undefined>
}

export class NodeAgents extends Context.Tag("@agent-sandbox/server/e2b/NodeAgents")<
  NodeAgents,
  NodeAgentsShape
>() {}

const holderIndex = "holder"

/** Agents found through their Leases in `namespace`. */
export const layer = (namespace: string): Layer.Layer<NodeAgents, never, KubeClient.KubeClient> =>
  Layer.scoped(
    NodeAgents,
    Effect.gen(function* () {
      const informer = yield* Informer.make(ResourceType.Lease, {
        namespace,
        labelSelector: NodeAgentLease.label,
        indexers: { [holderIndex]: (lease) => lease.spec?.holderIdentity ?? undefined },
      })
      return {
        addressOf: (node) =>
          node === undefined
            ? Effect.succeed(undefined)
            : Effect.map(Clock.currentTimeMillis, (now) => {
                const leases = informer.store.unsafeByIndex(holderIndex, node)
                for (const lease of leases?.values() ?? []) {
                  const address = NodeAgentLease.liveAddress(lease, now)
                  if (address !== undefined) return address
                }
                return undefined
              }),
      }
    }),
  )

/** No agents: every request goes through exec (AGENT_SANDBOX_NODE_AGENTS=false). */
export const layerNone: Layer.Layer<NodeAgents> = Layer.succeed(NodeAgents, {
  addressOf: () => Effect.succeed(undefined),
})
