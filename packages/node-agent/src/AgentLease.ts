/**
 * Keeps this node's agent Lease (see envd's NodeAgentLease) renewed while the agent serves, and
 * deletes it when the agent stops, so the data plane falls back to exec at once rather than after
 * the Lease lapses. One server-side apply per renewal: no read, no conflict to retry.
 */
import { NodeAgentLease } from "@agent-sandbox/envd"
import { KubeClient, type KubeError, ResourceType } from "@agent-sandbox/kube"
import { Clock, Effect, Schedule, type Scope } from "effect"
import { NodeAgentConfig } from "./NodeAgentConfig.ts"

export const fieldManager = "agent-sandbox-node-agent"

export const keepRenewed: Effect.Effect<
  void,
  KubeError.KubeError,
  NodeAgentConfig | KubeClient.KubeClient | Scope.Scope
> = Effect.gen(function* () {
  const config = yield* NodeAgentConfig
  const client = yield* KubeClient.KubeClient
  const namespace = config.systemNamespace
  const renew = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    client.apply(
      ResourceType.Lease,
      NodeAgentLease.make({
        namespace,
        node: config.nodeName,
        address: config.advertisedAddress,
        now,
        durationSeconds: config.leaseDurationSeconds,
      }),
      { namespace, fieldManager, force: true },
    ),
  )
  // The first renewal before serving is announced; then three per lease duration, errors logged.
  yield* renew
  yield* Effect.addFinalizer(() =>
    client
      .delete(ResourceType.Lease, NodeAgentLease.nameOf(config.nodeName), { namespace })
      .pipe(Effect.ignore),
  )
  yield* renew.pipe(
    Effect.catchAll((error) => Effect.logWarning(`renewing the node agent Lease failed: ${error.message}`)),
    Effect.repeat(Schedule.spaced(`${Math.max(1, Math.floor(config.leaseDurationSeconds / 3))} seconds`)),
    Effect.forkScoped,
  )
})
