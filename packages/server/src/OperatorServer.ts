import { KubeClient, LeaderElection } from "@agent-sandbox/kube"
import { Operator } from "@agent-sandbox/operator"
import { Duration, Effect, Layer } from "effect"
import * as ApiKeys from "./auth/ApiKeys.ts"
import * as E2bServer from "./e2b/E2bServer.ts"
import * as MetricsServer from "./metrics/MetricsServer.ts"
import * as ProbeServer from "./probes/ProbeServer.ts"
import * as RestServer from "./rest/RestServer.ts"
import { ServerConfig, tenantDefaultsOf } from "./ServerConfig.ts"
import * as TenantGate from "./tenancy/TenantGate.ts"
import * as TerminalTokenKey from "./terminal/TerminalTokenKey.ts"

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
        }),
      ),
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
