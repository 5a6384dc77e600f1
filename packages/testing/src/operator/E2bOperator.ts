/**
 * An operator replica in this process with the E2B server on, on loopback: a namespace with a
 * pool, a system namespace, and API keys for two tenants and an admin; all removed with the scope.
 */
import type { SandboxIdFormat } from "@agent-sandbox/domain"
import { type KubeClient, KubeConfig } from "@agent-sandbox/kube"
import { OperatorServer, ServerConfig } from "@agent-sandbox/server"
import { Effect, Layer, type Scope } from "effect"
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
    const [apiPort, probePort, port] = yield* FreePorts.freePorts(3)
    const config = ServerConfig.layer({
      systemNamespace,
      watchNamespace: namespace,
      defaultNamespace: namespace,
      replicaId: `${options.prefix}-replica`,
      host: "127.0.0.1",
      apiPort: apiPort!,
      probePort: probePort!,
      maxWaitMillis: options.maxWaitMillis ?? 30_000,
      waitCapacity: 100,
      retryAfterSeconds: 1,
      e2b: {
        port: port!,
        domain: e2bDomain,
        nodeAgents:
          options.nodeAgents === true
            ? { grantSeconds: 60, confirmSeconds: 30, maxConfirmed: 100_000 }
            : undefined,
      },
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      clusterTag: options.clusterTag,
    })
    const kubeConfig = yield* KubeConfig.KubeConfig
    yield* Layer.buildWithScope(
      OperatorServer.layer.pipe(
        Layer.provide(config),
        Layer.provide(Layer.succeed(KubeConfig.KubeConfig, kubeConfig)),
      ),
      yield* Effect.scope,
    )
    const url = `http://127.0.0.1:${port}`
    const keys = {
      tenantA: yield* OperatorHarness.mintKey(systemNamespace, "team-a"),
      tenantB: yield* OperatorHarness.mintKey(systemNamespace, "team-b"),
      admin: yield* OperatorHarness.mintKey(systemNamespace, "ops", true),
    }
    // Ready once the key watch has seen the new keys.
    yield* Eventually.eventually(
      Effect.flatMap(Http.call(`${url}/v2/sandboxes`, { key: keys.admin }), (r) =>
        r.status === 200 ? Effect.void : Effect.fail(r),
      ),
      { timeout: "60 seconds" },
    )
    return {
      namespace,
      systemNamespace,
      url,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      port: port!,
      domain: e2bDomain,
      keys,
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
