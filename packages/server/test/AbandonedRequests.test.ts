import { Eventually, FreePorts, Load, TestCluster } from "@agent-sandbox/testing"
import {
  OperatorHarness,
  OperatorNamespaces,
  PodAudit,
  PoolStatus,
  Pools,
} from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"

const poolSize = 30
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`

layer(TestCluster.layer, { timeout: "60 seconds", excludeTestServices: true })(
  "callers who hang up",
  (it) => {
    it.effect(
      "a caller hanging up mid-claim strands no Pod and leaves no sandbox nobody knows of",
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const started = Date.now()
            const { namespace, system } = yield* OperatorNamespaces.make("abandon")
            yield* Pools.createPool(namespace, "abandon", {
              replicas: poolSize,
              maxPods: poolSize,
              sandbox: { defaultTimeoutSeconds: 600, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 60 },
            })
            const [apiPort, probePort] = yield* FreePorts.freePorts(2)
            const operator = yield* OperatorHarness.startOperator({
              namespace,
              systemNamespace: system,
              apiPort: apiPort!,
              probePort: probePort!,
              maxWaitMillis: 2_000,
            })
            const key = yield* OperatorHarness.mintKey(system, "abandon", false, OperatorHarness.noQuotas)
            yield* Eventually.eventually(
              Effect.flatMap(Load.attempt(`${operator.apiUrl}/v1/pools`, { key }), (r) =>
                r.status === 200 ? Effect.void : Effect.fail(r),
              ),
            )
            const full = Eventually.eventually(
              Effect.flatMap(PodAudit.audit(namespace, "abandon"), (a) =>
                a.claimable.length + a.allocated.size === poolSize && a.pods.length === poolSize
                  ? Effect.succeed(a)
                  : Effect.fail(a),
              ),
              { timeout: "60 seconds", interval: "200 millis" },
            )
            yield* full

            // Callers who give up after a few milliseconds: many hang up while their claim is in flight.
            const outcomes = yield* Effect.all(
              Array.from({ length: 2 * poolSize }, (_, i) =>
                Load.attempt(`${operator.apiUrl}/v1/sandboxes`, {
                  method: "POST",
                  key,
                  body: { pool: "abandon", timeoutSeconds: 10 },
                  abortAfterMillis: 1 + (i % 40),
                }),
              ),
              { concurrency: "unbounded" },
            )
            const received = new Set(outcomes.filter((o) => o.status === 201).map((o) => o.body.id as string))
            console.log(`[abandon] hung-up burst:`, Load.tally(outcomes))

            // A claim that lands after its caller hung up is undone at once. Only a caller hanging up in
            // the instant between the claim landing and the answer being written leaves a sandbox nobody
            // received; such a sandbox ends at its expiry (10 s here), like any whose owner vanished.
            const orphansOf = (a: { readonly allocated: ReadonlyMap<string, string> }) =>
              Array.from(a.allocated.values()).filter((id) => !received.has(id)).length
            const undone = yield* Eventually.eventually(
              Effect.flatMap(PodAudit.audit(namespace, "abandon"), (a) =>
                orphansOf(a) <= 3
                  ? Effect.succeed(a)
                  : Effect.fail(`${orphansOf(a)} sandboxes nobody received`),
              ),
              { timeout: "5 seconds", interval: "100 millis" },
            )
            assert.deepStrictEqual(undone.inconsistent, [])
            console.log(`[abandon] sandboxes nobody received, left to expire: ${orphansOf(undone)}`)

            // Then the pool is whole again: every Pod idle and claimable, none stranded.
            yield* Eventually.eventually(
              Effect.flatMap(PodAudit.audit(namespace, "abandon"), (a) =>
                a.allocated.size === 0 && a.pods.length === poolSize && a.claimable.length === poolSize
                  ? Effect.void
                  : Effect.fail(
                      `allocated ${a.allocated.size}, claimable ${a.claimable.length}, pods ${a.pods.length}`,
                    ),
              ),
              { timeout: "40 seconds", interval: "200 millis" },
            )

            // Every idle Pod can still be handed out by this replica: none is stranded mid-claim.
            const rest = yield* Effect.all(
              Array.from({ length: poolSize }, () =>
                Load.attempt(`${operator.apiUrl}/v1/sandboxes`, {
                  method: "POST",
                  key,
                  body: { pool: "abandon" },
                }),
              ),
              { concurrency: "unbounded" },
            )
            assert.deepStrictEqual(Load.tally(rest), { 201: poolSize })
            yield* PoolStatus.awaitPoolStatus(namespace, "abandon", (s) => s.allocatedReplicas === poolSize)
            console.log(`[abandon] done in ${seconds(started)}`)
          }),
        ),
      120_000,
    )
  },
)
