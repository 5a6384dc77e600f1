import { Eventually, FreePorts, Load, TestCluster } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces, PodAudit, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"

const poolSize = 10

layer(TestCluster.layer, { timeout: "60 seconds", excludeTestServices: true })(
  "a batch whose caller hangs up",
  (it) => {
    it.effect(
      "gives back at once what it had claimed, instead of leaving it allocated until it expires",
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const { namespace, system } = yield* OperatorNamespaces.make("batch-hangup")
            yield* Pools.createPool(namespace, "batch", {
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
              maxWaitMillis: 20_000,
            })
            const key = yield* OperatorHarness.mintKey(system, "batch")
            yield* Eventually.eventually(
              Effect.flatMap(PodAudit.audit(namespace, "batch"), (a) =>
                a.claimable.length === poolSize ? Effect.void : Effect.fail(a.claimable.length),
              ),
              { timeout: "60 seconds", interval: "200 millis" },
            )

            // More than the pool holds (maxPods: no more come): the batch claims every Pod, then waits
            // for the rest, and its caller gives up meanwhile.
            const hungUp = yield* Load.attempt(`${operator.apiUrl}/v1/sandboxes/batch`, {
              method: "POST",
              key,
              body: { pool: "batch", count: poolSize + 5 },
              abortAfterMillis: 3_000,
            })
            assert.strictEqual(hungUp.status, 0, "the caller hung up before any answer")
            // Long before their 600 s expiry, every claimed Pod is idle again and claimable.
            yield* Eventually.eventually(
              Effect.flatMap(PodAudit.audit(namespace, "batch"), (a) =>
                a.allocated.size === 0 && a.claimable.length === poolSize
                  ? Effect.void
                  : Effect.fail(`allocated ${a.allocated.size}, claimable ${a.claimable.length}`),
              ),
              { timeout: "30 seconds", interval: "200 millis" },
            )
          }),
        ),
      120_000,
    )
  },
)
