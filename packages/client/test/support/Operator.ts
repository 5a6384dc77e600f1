// The operator the client talks to, started through the server's test harness (moving to
// packages/testing); the client's own code never imports the server.
import { Eventually } from "@agent-sandbox/testing"
import { Context, Effect, Layer } from "effect"
import { mintKey, startOperator } from "../../../server/test/support/OperatorHarness.ts"
import { createPool } from "../../../server/test/support/Pools.ts"
import { freeLoopbackPorts } from "../../../server/test/support/Ports.ts"
import { cluster, operatorNamespaces } from "../../../server/test/support/TestCluster.ts"

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
      const { namespace, system } = yield* operatorNamespaces(prefix)
      yield* createPool(namespace, "warm", {
        replicas,
        sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 60 },
      })
      const [apiPort, probePort] = yield* freeLoopbackPorts(2)
      const operator = yield* startOperator({
        namespace,
        systemNamespace: system,
        apiPort: apiPort!,
        probePort: probePort!,
      })
      const key = yield* mintKey(system, "team-a")
      const otherKey = yield* mintKey(system, "team-b")
      const adminKey = yield* mintKey(system, "ops", true)
      // The key watch sees new Secrets shortly after they are written.
      yield* Eventually.eventually(
        Effect.flatMap(
          Effect.promise(() => fetch(`${operator.apiUrl}/v1/pools`, { headers: { "x-api-key": adminKey } })),
          (r) => (r.status === 200 ? Effect.void : Effect.fail(r.status)),
        ),
      )
      return { namespace, baseUrl: operator.apiUrl, key, otherKey, adminKey }
    }),
  ).pipe(Layer.provideMerge(cluster))
