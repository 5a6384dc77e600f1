import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { ApiKey, OperatorServer, ServerConfig } from "@agent-sandbox/server"
import { Effect, Layer, type Scope } from "effect"
import * as Eventually from "../Eventually.ts"

export interface RunningOperator {
  readonly apiUrl: string
  readonly probeUrl: string
}

export interface OperatorHarnessOptions {
  readonly namespace: string
  readonly systemNamespace: string
  readonly apiPort: number
  readonly probePort: number
  readonly replicaId?: string
  readonly maxWaitMillis?: number
  readonly waitCapacity?: number
  /** Request and data-plane bounds over the server's defaults. */
  readonly limits?: ServerConfig.ServerConfigShape["limits"]
}

/** The configuration a test replica runs with (also handed to replicas in their own process). */
export const serverConfigOf = (options: OperatorHarnessOptions): ServerConfig.ServerConfigShape => ({
  systemNamespace: options.systemNamespace,
  watchNamespace: options.namespace,
  defaultNamespace: options.namespace,
  replicaId: options.replicaId ?? "test-replica",
  host: "127.0.0.1",
  apiPort: options.apiPort,
  probePort: options.probePort,
  maxWaitMillis: options.maxWaitMillis ?? 10_000,
  waitCapacity: options.waitCapacity ?? 2_000,
  retryAfterSeconds: 1,
  ...(options.limits === undefined ? {} : { limits: options.limits }),
})

/** Polls the replica's readiness probe: every watch has listed once. */
export const awaitReady = (running: RunningOperator) =>
  Eventually.eventually(
    Effect.flatMap(
      Effect.tryPromise(() => fetch(`${running.probeUrl}/readyz`)),
      (r) => (r.ok ? Effect.void : Effect.fail("not ready")),
    ),
    { timeout: "60 seconds" },
  )

/** An operator replica in this process, on loopback, watching one namespace; stopped with the scope. */
export const startOperator = (
  options: OperatorHarnessOptions,
): Effect.Effect<RunningOperator, unknown, Scope.Scope | KubeConfig.KubeConfig> =>
  Effect.gen(function* () {
    const config = ServerConfig.layer(serverConfigOf(options))
    const kubeConfig = yield* KubeConfig.KubeConfig
    yield* Layer.buildWithScope(
      OperatorServer.layer.pipe(
        Layer.provide(config),
        Layer.provide(Layer.succeed(KubeConfig.KubeConfig, kubeConfig)),
      ),
      yield* Effect.scope,
    )
    const running = {
      apiUrl: `http://127.0.0.1:${options.apiPort}`,
      probeUrl: `http://127.0.0.1:${options.probePort}`,
    }
    yield* awaitReady(running)
    return running
  })

/** A key policy whose quotas no load test or benchmark reaches (they measure allocation, not quotas). */
export const noQuotas: ApiKey.PolicyData = {
  maxAllocated: "1e9",
  maxWaiting: "1e9",
  createsPerSecond: "1e9",
}

/** Mints an API key straight into the cluster (as an operator's admin would), with its pools and quotas if given. */
export const mintKey = (
  systemNamespace: string,
  tenant: string,
  admin = false,
  policy: ApiKey.PolicyData = {},
): Effect.Effect<string, unknown, KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const key = ApiKey.mint()
    yield* client.create(
      ResourceType.Secret,
      ApiKey.toSecret(systemNamespace, { tenant, admin, sha256: ApiKey.hash(key) }, policy),
      { namespace: systemNamespace },
    )
    return key
  })
