/**
 * A terminal setup for the suites: an operator replica (REST API) over a KWOK pool, API keys for
 * two tenants, and a wsproxy in this process; all stopped with the scope.
 */
import { KubeConfig } from "@agent-sandbox/kube"
import { Eventually, FreePorts, Http } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces, Pools } from "@agent-sandbox/testing/operator"
import { Context, Duration, Effect, Layer, type Scope } from "effect"
import { TerminalSessions } from "../src/TerminalSessions.ts"
import * as Wsproxy from "../src/Wsproxy.ts"
import * as WsproxyConfig from "../src/WsproxyConfig.ts"

export interface TerminalSetup {
  readonly namespace: string
  readonly system: string
  readonly api: string
  readonly keys: { readonly tenantA: string; readonly tenantB: string }
  readonly startWsproxy: (
    overrides?: Partial<WsproxyConfig.WsproxyConfigShape>,
  ) => Effect.Effect<RunningWsproxy, unknown, Scope.Scope>
}

export interface RunningWsproxy {
  readonly url: string
  readonly sessions: TerminalSessions["Type"]
}

export const setup = (prefix: string, replicas = 2) =>
  Effect.gen(function* () {
    const { namespace, system } = yield* OperatorNamespaces.make(prefix)
    yield* Pools.createPool(namespace, "shell", {
      replicas,
      sandbox: { defaultTimeoutSeconds: 600, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 60 },
    })
    const [apiPort, probePort] = yield* FreePorts.freePorts(2)
    const operator = yield* OperatorHarness.startOperator({
      namespace,
      systemNamespace: system,
      apiPort: apiPort!,
      probePort: probePort!,
    })
    const keys = {
      tenantA: yield* OperatorHarness.mintKey(system, "team-a"),
      tenantB: yield* OperatorHarness.mintKey(system, "team-b"),
    }
    yield* Eventually.eventually(
      Effect.flatMap(Http.call(`${operator.apiUrl}/v1/pools`, { key: keys.tenantB }), (r) =>
        r.status === 200 ? Effect.void : Effect.fail(r),
      ),
    )
    const kubeConfig = yield* KubeConfig.KubeConfig
    const startWsproxy = (overrides: Partial<WsproxyConfig.WsproxyConfigShape> = {}) =>
      Effect.gen(function* () {
        const [port] = yield* FreePorts.freePorts(1)
        const context = yield* Layer.build(
          Wsproxy.layer.pipe(
            Layer.provide(
              WsproxyConfig.layer({
                systemNamespace: system,
                host: "127.0.0.1",
                port: port!,
                apiUrl: operator.apiUrl,
                allowedOrigins: [],
                maxSessionsPerSandbox: 4,
                idleTimeout: Duration.minutes(10),
                pingInterval: Duration.seconds(20),
                ...overrides,
              }),
            ),
            Layer.provide(Layer.succeed(KubeConfig.KubeConfig, kubeConfig)),
          ),
        )
        return { url: `http://127.0.0.1:${port}`, sessions: Context.get(context, TerminalSessions) }
      })
    return { namespace, system, api: operator.apiUrl, keys, startWsproxy } satisfies TerminalSetup
  })

/** A sandbox of the pool for `key`'s tenant. */
export const allocate = (api: string, key: string) =>
  Effect.flatMap(Http.call(`${api}/v1/sandboxes`, { method: "POST", key, body: { pool: "shell" } }), (r) =>
    r.status === 201
      ? Effect.succeed(r.body as { id: string; pod: string; namespace: string })
      : Effect.fail(r),
  )

export const terminalToken = (api: string, key: string, id: string) =>
  Http.call(`${api}/v1/sandboxes/${id}/terminal-token`, { method: "POST", key })
