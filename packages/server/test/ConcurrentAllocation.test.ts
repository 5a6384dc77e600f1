import { Eventually, FreePorts, Load, TestCluster } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces, PodAudit, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"

const warmPods = 500
const requests = 2_000

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`

layer(TestCluster.layer, { timeout: "60 seconds", excludeTestServices: true })(
  "two operator replicas under concurrent allocation",
  (it) => {
    it.effect(
      `${requests} concurrent allocations over two replicas against ${warmPods} warm Pods: no Pod twice`,
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const started = Date.now()
            const { namespace, system } = yield* OperatorNamespaces.make("alloc-load")
            // maxPods keeps the pool at its 500 Pods: waiting callers may not grow it.
            yield* Pools.createPool(namespace, "load", {
              replicas: warmPods,
              maxPods: warmPods,
              sandbox: { defaultTimeoutSeconds: 600, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 60 },
            })
            const ports = yield* FreePorts.freePorts(4)
            const replicas = [
              yield* OperatorHarness.startOperator({
                namespace,
                systemNamespace: system,
                apiPort: ports[0]!,
                probePort: ports[1]!,
                replicaId: "replica-a",
                maxWaitMillis: 3_000,
                waitCapacity: 300,
              }),
              yield* OperatorHarness.startOperator({
                namespace,
                systemNamespace: system,
                apiPort: ports[2]!,
                probePort: ports[3]!,
                replicaId: "replica-b",
                maxWaitMillis: 3_000,
                waitCapacity: 300,
              }),
            ]
            const key = yield* OperatorHarness.mintKey(system, "load", false, OperatorHarness.noQuotas)
            for (const replica of replicas) {
              yield* Eventually.eventually(
                Effect.flatMap(Load.attempt(`${replica.apiUrl}/v1/pools`, { key }), (r) =>
                  r.status === 200 ? Effect.void : Effect.fail(r),
                ),
              )
            }
            yield* Eventually.eventually(
              Effect.flatMap(PodAudit.audit(namespace, "load"), (a) =>
                a.claimable.length === warmPods ? Effect.void : Effect.fail(a.claimable.length),
              ),
              { timeout: "120 seconds", interval: "500 millis" },
            )
            console.log(`[load] ${warmPods} warm Pods and two replicas ready after ${seconds(started)}`)

            const burst = Date.now()
            const outcomes = yield* Effect.all(
              Array.from({ length: requests }, (_, i) =>
                Load.attempt(`${replicas[i % 2]!.apiUrl}/v1/sandboxes`, {
                  method: "POST",
                  key,
                  body: { pool: "load", metadata: { n: String(i) } },
                }),
              ),
              { concurrency: "unbounded" },
            )
            console.log(`[load] ${requests} requests answered in ${seconds(burst)}:`, Load.tally(outcomes))

            // Every request: a sandbox, or a clear "come back later".
            for (const o of outcomes) {
              assert.include([201, 503, 429], o.status, JSON.stringify(o))
              if (o.status !== 201) assert.include(["CapacityUnavailable", "TooManyWaiting"], o.body?._tag)
            }
            const successes = outcomes.filter((o) => o.status === 201).map((o) => o.body)
            const pods = successes.map((s) => s.pod as string)
            const ids = successes.map((s) => s.id as string)
            assert.strictEqual(new Set(pods).size, pods.length, "a Pod was handed to two callers")
            assert.strictEqual(new Set(ids).size, ids.length, "a sandbox id was handed out twice")

            // The cluster agrees: each success's Pod carries its id, and nothing else is allocated.
            const after = yield* PodAudit.audit(namespace, "load")
            assert.deepStrictEqual(after.inconsistent, [])
            for (const s of successes) assert.strictEqual(after.allocated.get(s.pod), s.id, s.pod)
            assert.strictEqual(after.allocated.size, successes.length)
            assert.isAtMost(after.pods.length, warmPods)
            // Demand exceeded supply, so every warm Pod found a caller.
            assert.strictEqual(successes.length, warmPods, JSON.stringify(Load.tally(outcomes)))
            for (const o of outcomes) {
              if (o.status !== 201) assert.isNotNull(o.retryAfter, `${o.status} without Retry-After`)
            }
            console.log(`[load] verified after ${seconds(started)} in all`)
          }),
        ),
      240_000,
    )
  },
)
