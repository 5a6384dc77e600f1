import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Effect } from "effect"

/** The replica that holds the operator's Lease now (the one running the pool reconcilers). */
export const leaderOf = (systemNamespace: string): Effect.Effect<string, unknown, KubeClient.KubeClient> =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.get(ResourceType.Lease, "agent-sandbox-operator", { namespace: systemNamespace }),
  ).pipe(
    Effect.flatMap((lease) => {
      const holder = lease.spec?.holderIdentity
      return holder === undefined || holder === "" ? Effect.fail("no leader yet") : Effect.succeed(holder)
    }),
  )
