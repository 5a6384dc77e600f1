import { KubeClient, LeaderElection } from "@agent-sandbox/kube"
import { Operator, PodStateScrubber } from "@agent-sandbox/operator"
import { Duration, Effect, Layer } from "effect"
import * as ApiKeys from "./auth/ApiKeys.ts"
import * as AgentPodScrubber from "./e2b/AgentPodScrubber.ts"
import * as E2bServer from "./e2b/E2bServer.ts"
import * as NodeAgentGrantKey from "./e2b/NodeAgentGrantKey.ts"
import * as NodeAgents from "./e2b/NodeAgents.ts"
import * as MetricsServer from "./metrics/MetricsServer.ts"
import * as ProbeServer from "./probes/ProbeServer.ts"
import * as RestServer from "./rest/RestServer.ts"
import {
  defaultScrubSeconds,
  ServerConfig,
  type ServerConfigShape,
  tenantDefaultsOf,
} from "./ServerConfig.ts"
import * as TenantGate from "./tenancy/TenantGate.ts"
import * as TerminalTokenKey from "./terminal/TerminalTokenKey.ts"

/**
 * Who clears what a recycle in place leaves in a Pod: the node agents where the data plane uses
 * them (the same Leases and grant key), else nobody (a recycle then deletes, unless the pool accepts
 * carrying the state over).
 */
const podStateScrubber = (config: ServerConfigShape) => {
  const agents = config.e2b?.nodeAgents
  if (agents === undefined) return PodStateScrubber.layerNone
  const scrubSeconds = agents.scrubSeconds ?? defaultScrubSeconds
  return AgentPodScrubber.layer({ requestMillis: scrubSeconds * 1000 }).pipe(
    Layer.provide(NodeAgents.layer(config.systemNamespace)),
    Layer.provide(NodeAgentGrantKey.layer(config.systemNamespace)),
  )
}

/**
 * The operator process: the REST API, the E2B API with envd (when configured) and probes over the
 * operator (its Sandboxes service, and the pool controller while leading). Needs a KubeConfig and a ServerConfig.
 */
export const layer = Layer.unwrapEffect(
  Effect.map(ServerConfig, (config) =>
    Layer.mergeAll(RestServer.layer, ProbeServer.layer, E2bServer.layer, MetricsServer.layer).pipe(
      Layer.provide(ApiKeys.layer(config.systemNamespace, tenantDefaultsOf(config))),
      // One gate for every front door: a tenant's quotas count REST, RPC and E2B together.
      Layer.provide(TenantGate.layer),
      Layer.provide(TerminalTokenKey.layer(config.systemNamespace)),
      Layer.provide(
        Operator.layer({
          namespace: config.watchNamespace,
          replicaId: config.replicaId,
          waitCapacity: config.waitCapacity,
          maxWait: Duration.millis(config.maxWaitMillis),
          retryAfterSeconds: config.retryAfterSeconds,
          reconcileConcurrency: 4,
          apiLookups: config.apiLookups,
          clusterTag: config.clusterTag,
          scrubTimeout: Duration.seconds((config.e2b?.nodeAgents?.scrubSeconds ?? defaultScrubSeconds) + 5),
        }),
      ),
      Layer.provide(podStateScrubber(config)),
      Layer.provide(
        LeaderElection.layer({
          namespace: config.systemNamespace,
          name: "agent-sandbox-operator",
          identity: config.replicaId,
        }),
      ),
      Layer.provide(KubeClient.layer),
    ),
  ),
)
