/**
 * An operator replica in this process with the E2B server on, on loopback: a namespace with a
 * pool, a system namespace, and API keys for two tenants and an admin; all removed with the scope.
 * More replicas of the same operator (the same namespaces and Lease) on request, each stoppable.
 */
import type { SandboxIdFormat } from "@agent-sandbox/domain"
import { type KubeClient, KubeConfig } from "@agent-sandbox/kube"
import { OperatorServer, ServerConfig } from "@agent-sandbox/server"
import { Effect, ExecutionStrategy, Exit, Layer, Scope } from "effect"
import * as Eventually from "../Eventually.ts"
import * as FreePorts from "../FreePorts.ts"
import * as Http from "../Http.ts"
import * as TestNamespace from "../TestNamespace.ts"
import * as OperatorHarness from "./OperatorHarness.ts"
import * as Pools from "./Pools.ts"
import * as SandboxCrds from "./SandboxCrds.ts"

export interface E2bOperator {
  readonly namespace: string
  readonly systemNamespace: string
  /** The E2B API and envd, e.g. http://127.0.0.1:40123. */
  readonly url: string
  /** The REST API of the same replica. */
  readonly apiUrl: string
  readonly port: number
  readonly domain: string
  readonly keys: { readonly tenantA: string; readonly tenantB: string; readonly admin: string }
  /** Every replica, the first being the one `url` and `apiUrl` name. */
  readonly replicas: ReadonlyArray<E2bReplica>
}

export interface E2bReplica {
  /** Its identity: the leader Lease's holderIdentity while it leads. */
  readonly replicaId: string
  /** Its E2B API and envd. */
  readonly url: string
  readonly port: number
  readonly apiUrl: string
  /** Its Prometheus metrics (GET /metrics); the registry is the process's, shared by the replicas. */
  readonly metricsUrl: string
  /** Stops it gracefully (its Lease released), before the scope ends. */
  readonly stop: Effect.Effect<void>
}

export const e2bDomain = "sandbox.test"

export interface E2bOperatorOptions {
  readonly prefix: string
  /** The pool `base` gets these spec fields (replicas, sandbox timeouts, ...). */
  readonly pool?: Record<string, unknown>
  /** Request and data-plane bounds over the server's defaults. */
  readonly limits?: ServerConfig.ServerConfigShape["limits"]
  /** Minted sandbox ids carry it (`<cluster>-<random>`), as with AGENT_SANDBOX_CLUSTER_TAG. */
  readonly clusterTag?: SandboxIdFormat.ClusterTag
  /** Route envd requests to node agents where one serves the node (off by default: KWOK has none). */
  readonly nodeAgents?: boolean
  /** How long a create waits for a free Pod before 503 (default 30 s; real containers start slower). */
  readonly maxWaitMillis?: number
  /** Replicas in this process (default 1), all of the same namespaces, keys and leader Lease. */
  readonly replicas?: number
  /** How long a node agent may take to clear a recycled Pod's state (AGENT_SANDBOX_NODE_AGENT_SCRUB_SECONDS). */
  readonly scrubSeconds?: number
}

export const start = (
  options: E2bOperatorOptions,
): Effect.Effect<E2bOperator, unknown, Scope.Scope | KubeConfig.KubeConfig | KubeClient.KubeClient> =>
  Effect.gen(function* () {
    yield* SandboxCrds.install
    const namespace = yield* TestNamespace.make(options.prefix)
    const systemNamespace = yield* TestNamespace.make(`${options.prefix}-system`)
    yield* Pools.createPool(namespace, "base", {
      replicas: 2,
      sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
      ...options.pool,
    })
    const kubeConfig = yield* KubeConfig.KubeConfig
    const scope = yield* Effect.scope
    const startReplica = (index: number) =>
      Effect.gen(function* () {
        const [apiPort, probePort, port, metricsPort] = yield* FreePorts.freePorts(4)
        // The first keeps the name it always had.
        const replicaId = index === 0 ? `${options.prefix}-replica` : `${options.prefix}-replica-${index}`
        const config = ServerConfig.layer({
          systemNamespace,
          watchNamespace: namespace,
          defaultNamespace: namespace,
          replicaId,
          host: "127.0.0.1",
          apiPort: apiPort!,
          probePort: probePort!,
          metricsPort: metricsPort!,
          maxWaitMillis: options.maxWaitMillis ?? 30_000,
          waitCapacity: 100,
          retryAfterSeconds: 1,
          e2b: {
            port: port!,
            domain: e2bDomain,
            nodeAgents:
              options.nodeAgents === true
                ? {
                    grantSeconds: 60,
                    confirmSeconds: 30,
                    maxConfirmed: 100_000,
                    scrubSeconds: options.scrubSeconds,
                  }
                : undefined,
          },
          ...(options.limits === undefined ? {} : { limits: options.limits }),
          clusterTag: options.clusterTag,
        })
        const own = yield* Scope.fork(scope, ExecutionStrategy.sequential)
        yield* Layer.buildWithScope(
          OperatorServer.layer.pipe(
            Layer.provide(config),
            Layer.provide(Layer.succeed(KubeConfig.KubeConfig, kubeConfig)),
          ),
          own,
        )
        return {
          replicaId,
          url: `http://127.0.0.1:${port}`,
          port: port!,
          apiUrl: `http://127.0.0.1:${apiPort}`,
          metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
          stop: Scope.close(own, Exit.void),
        } satisfies E2bReplica
      })
    const replicas = yield* Effect.forEach(
      Array.from({ length: Math.max(1, options.replicas ?? 1) }, (_, i) => i),
      startReplica,
    )
    const first = replicas[0]!
    const url = first.url
    const keys = {
      tenantA: yield* OperatorHarness.mintKey(systemNamespace, "team-a"),
      tenantB: yield* OperatorHarness.mintKey(systemNamespace, "team-b"),
      admin: yield* OperatorHarness.mintKey(systemNamespace, "ops", true),
    }
    // Ready once every replica's key watch has seen the new keys.
    for (const replica of replicas)
      yield* Eventually.eventually(
        Effect.flatMap(Http.call(`${replica.url}/v2/sandboxes`, { key: keys.admin }), (r) =>
          r.status === 200 ? Effect.void : Effect.fail(r),
        ),
        { timeout: "60 seconds" },
      )
    return {
      namespace,
      systemNamespace,
      url,
      apiUrl: first.apiUrl,
      port: first.port,
      domain: e2bDomain,
      keys,
      replicas,
    }
  })

/** What an E2B create answers: the sandbox's id and envd access token, and every other field. */
export interface CreatedSandbox {
  readonly sandboxID: string
  readonly envdAccessToken: string
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever else the E2B API answered
  readonly [field: string]: any
}

/**
 * A sandbox created as an E2B SDK creates one: POST `/v2/sandboxes` (or the v1 `/sandboxes`) on the
 * E2B API at `url`, of the template `base` unless `body` says otherwise. Anything but a 201 fails
 * with the status and the answer.
 */
export const createSandbox = (
  url: string,
  key: string,
  body: Record<string, unknown> = { templateID: "base" },
  options: { readonly path?: "/v2/sandboxes" | "/sandboxes" } = {},
): Effect.Effect<CreatedSandbox, Error> =>
  Effect.flatMap(Http.call(`${url}${options.path ?? "/v2/sandboxes"}`, { method: "POST", key, body }), (r) =>
    r.status === 201
      ? Effect.succeed(r.body as CreatedSandbox)
      : Effect.fail(new Error(`E2B create ${JSON.stringify(body)}: ${r.status} ${JSON.stringify(r.body)}`)),
  )
