// The operator the client talks to, started by the testing package's harness; the client's own
// code never imports the server.
import { Eventually, FreePorts, TestCluster } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces, Pools } from "@agent-sandbox/testing/operator"
import { Context, Effect, Layer } from "effect"

export class Operator extends Context.Tag("client-test/Operator")<
  Operator,
  {
    readonly namespace: string
    readonly baseUrl: string
    readonly key: string
    readonly otherKey: string
    readonly adminKey: string
  }
>() {}

/** One operator on loopback with a warm pool `warm` of `replicas` Pods and three keys. */
export const layer = (prefix: string, replicas = 3) =>
  Layer.scoped(
    Operator,
    Effect.gen(function* () {
      const { namespace, system } = yield* OperatorNamespaces.make(prefix)
      yield* Pools.createPool(namespace, "warm", {
        replicas,
        sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 60 },
      })
      const [apiPort, probePort] = yield* FreePorts.freePorts(2)
      const operator = yield* OperatorHarness.startOperator({
        namespace,
        systemNamespace: system,
        apiPort: apiPort!,
        probePort: probePort!,
      })
      const key = yield* OperatorHarness.mintKey(system, "team-a")
      const otherKey = yield* OperatorHarness.mintKey(system, "team-b")
      const adminKey = yield* OperatorHarness.mintKey(system, "ops", true)
      // The key watch sees new Secrets shortly after they are written.
      yield* Eventually.eventually(
        Effect.flatMap(
          Effect.promise(() => fetch(`${operator.apiUrl}/v1/pools`, { headers: { "x-api-key": adminKey } })),
          (r) => (r.status === 200 ? Effect.void : Effect.fail(r.status)),
        ),
      )
      return { namespace, baseUrl: operator.apiUrl, key, otherKey, adminKey }
    }),
  ).pipe(Layer.provideMerge(TestCluster.layer))
