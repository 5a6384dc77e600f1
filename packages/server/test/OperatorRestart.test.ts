import { tmpdir } from "node:os"
import { join } from "node:path"
import type { KubeConfig } from "@agent-sandbox/kube"
import { Eventually, FreePorts, Load, TestCluster } from "@agent-sandbox/testing"
import {
  Leader,
  OperatorHarness,
  OperatorNamespaces,
  OperatorProcess,
  PodAudit,
  PoolStatus,
  Pools,
} from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"

const poolSize = 150
const requests = 300
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`

interface Replica {
  readonly running: OperatorHarness.RunningOperator
  /** Ends this incarnation: a graceful close, or a kill. */
  readonly stop: Effect.Effect<void>
}

/**
 * Allocations stream in; once some have landed, the replica is stopped (`stop`) mid-stream and a
 * new one is started with the same configuration. Then: every sandbox a caller received is still
 * there (found by GET and in the list, rebuilt from Pod labels), no Pod carries two sandboxes,
 * no record is half-written, and every Pod left idle can still be handed out.
 */
const stopMidFlightAndRestart = (
  label: string,
  start: (
    options: Parameters<typeof OperatorHarness.startOperator>[0],
  ) => Effect.Effect<Replica, unknown, KubeConfig.KubeConfig | Scope.Scope>,
) =>
  Effect.gen(function* () {
    const started = Date.now()
    const { namespace, system } = yield* OperatorNamespaces.make(`restart-${label}`)
    yield* Pools.createPool(namespace, "restart", {
      replicas: poolSize,
      maxPods: poolSize,
      sandbox: { defaultTimeoutSeconds: 600, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 60 },
    })
    const [apiPort, probePort] = yield* FreePorts.freePorts(2)
    const options = {
      namespace,
      systemNamespace: system,
      apiPort: apiPort!,
      probePort: probePort!,
      maxWaitMillis: 2_000,
    }
    const first = yield* start(options)
    const key = yield* OperatorHarness.mintKey(system, "restart", false, OperatorHarness.noQuotas)
    const admin = yield* OperatorHarness.mintKey(system, "ops", true)
    yield* Eventually.eventually(
      Effect.flatMap(Load.attempt(`${first.running.apiUrl}/v1/pools`, { key }), (r) =>
        r.status === 200 ? Effect.void : Effect.fail(r),
      ),
    )
    yield* Eventually.eventually(
      Effect.flatMap(PodAudit.audit(namespace, "restart"), (a) =>
        a.claimable.length === poolSize ? Effect.void : Effect.fail(a.claimable.length),
      ),
      { timeout: "60 seconds", interval: "200 millis" },
    )

    // Callers arrive over about a second and a half; the replica stops once some have landed.
    const burst = yield* Effect.fork(
      Effect.all(
        Array.from({ length: requests }, (_, i) =>
          Effect.sleep(`${i * 5} millis`).pipe(
            Effect.zipRight(
              Load.attempt(`${first.running.apiUrl}/v1/sandboxes`, {
                method: "POST",
                key,
                body: { pool: "restart", metadata: { n: String(i) } },
                // Callers give up at some point, as real ones do: a request that reached a replica
                // shutting down may never be answered (see the report on graceful shutdown).
                abortAfterMillis: 10_000,
              }),
            ),
          ),
        ),
        { concurrency: "unbounded" },
      ),
    )
    yield* Eventually.eventually(
      Effect.flatMap(PodAudit.audit(namespace, "restart"), (a) =>
        a.allocated.size >= 40 ? Effect.void : Effect.fail(a.allocated.size),
      ),
      { timeout: "30 seconds", interval: "20 millis" },
    )
    const stopping = Date.now()
    yield* first.stop
    console.log(`[restart-${label}] stopped mid-flight in ${seconds(stopping)}`)
    const outcomes: ReadonlyArray<Load.Outcome> = yield* Fiber.join(burst)
    console.log(`[restart-${label}] callers saw:`, Load.tally(outcomes))
    for (const o of outcomes) assert.include([0, 201, 503], o.status, JSON.stringify(o))

    const restarted = Date.now()
    const second = yield* start(options)
    console.log(`[restart-${label}] restarted and ready in ${seconds(restarted)}`)

    const received = outcomes.filter((o) => o.status === 201).map((o) => o.body)
    assert.strictEqual(new Set(received.map((s) => s.pod)).size, received.length, "a Pod handed out twice")
    assert.strictEqual(new Set(received.map((s) => s.id)).size, received.length, "an id handed out twice")
    for (const sandbox of received) {
      const found = yield* Load.attempt(`${second.running.apiUrl}/v1/sandboxes/${sandbox.id}`, { key })
      assert.strictEqual(found.status, 200, `${sandbox.id} lost: ${JSON.stringify(found)}`)
      assert.strictEqual(found.body.pod, sandbox.pod)
    }
    const listed = yield* Load.attempt(`${second.running.apiUrl}/v1/sandboxes?limit=1000`, { key: admin })
    const listedIds = new Set<string>(listed.body.items.map((s: { id: string }) => s.id))
    for (const sandbox of received) assert.isTrue(listedIds.has(sandbox.id), `${sandbox.id} not listed`)

    const after = yield* PodAudit.audit(namespace, "restart")
    assert.deepStrictEqual(after.inconsistent, [], "half-written records")
    for (const sandbox of received) assert.strictEqual(after.allocated.get(sandbox.pod), sandbox.id)
    // A claim can land while its answer is lost with the process: only callers who got no answer
    // at all (status 0) can have such a sandbox; it ends at its expiry.
    const unanswered = outcomes.filter((o) => o.status === 0).length
    const orphans = after.allocated.size - received.length
    console.log(
      `[restart-${label}] allocated ${after.allocated.size}, received ${received.length}, unanswered ${unanswered}`,
    )
    assert.isAtLeast(orphans, 0)
    assert.isAtMost(orphans, unanswered)

    // Nothing is stranded: every other Pod of the pool can still be handed out.
    const left = poolSize - after.allocated.size
    const rest = yield* Effect.all(
      Array.from({ length: left }, () =>
        Load.attempt(`${second.running.apiUrl}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "restart" },
        }),
      ),
      { concurrency: "unbounded" },
    )
    assert.deepStrictEqual(Load.tally(rest), left === 0 ? {} : { 201: left })
    const full = yield* PodAudit.audit(namespace, "restart")
    assert.strictEqual(full.allocated.size, poolSize)
    assert.deepStrictEqual(full.inconsistent, [])
    yield* PoolStatus.awaitPoolStatus(namespace, "restart", (s) => s.allocatedReplicas === poolSize)
    console.log(`[restart-${label}] done in ${seconds(started)}`)
  })

layer(TestCluster.layer, { timeout: "60 seconds", excludeTestServices: true })("operator restarts", (it) => {
  it.effect(
    "an operator closed mid-allocation and started again loses and duplicates nothing",
    () =>
      Effect.scoped(
        stopMidFlightAndRestart("closed", (options) =>
          Effect.gen(function* () {
            const scope = yield* Scope.make()
            const running = yield* OperatorHarness.startOperator(options).pipe(Scope.extend(scope))
            yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
            return { running, stop: Scope.close(scope, Exit.void) }
          }),
        ),
      ),
    120_000,
  )

  it.effect(
    "an operator killed outright mid-allocation and started again loses and duplicates nothing",
    () =>
      Effect.scoped(
        stopMidFlightAndRestart("killed", (options) =>
          Effect.map(
            OperatorProcess.spawnOperator({
              ...options,
              logFile: join(tmpdir(), `operator-restart-${options.namespace}.log`),
            }),
            (running) => ({ running, stop: running.kill }),
          ),
        ),
      ),
    120_000,
  )

  it.effect(
    "a leader killed outright: the follower keeps allocating and takes over refilling the pool",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const started = Date.now()
          const { namespace, system } = yield* OperatorNamespaces.make("failover")
          yield* Pools.createPool(namespace, "failover", { replicas: 10 })
          const ports = yield* FreePorts.freePorts(4)
          const spawn = (replicaId: string, apiPort: number, probePort: number) =>
            OperatorProcess.spawnOperator({
              namespace,
              systemNamespace: system,
              apiPort,
              probePort,
              replicaId,
              logFile: join(tmpdir(), `operator-failover-${namespace}-${replicaId}.log`),
            })
          const leader = yield* spawn("leader", ports[0]!, ports[1]!)
          yield* Eventually.eventually(
            Effect.flatMap(Leader.leaderOf(system), (holder) =>
              holder === "leader" ? Effect.void : Effect.fail(holder),
            ),
          )
          const follower = yield* spawn("follower", ports[2]!, ports[3]!)
          const key = yield* OperatorHarness.mintKey(system, "failover")
          yield* Eventually.eventually(
            Effect.flatMap(Load.attempt(`${follower.apiUrl}/v1/pools`, { key }), (r) =>
              r.status === 200 ? Effect.void : Effect.fail(r),
            ),
          )
          yield* Eventually.eventually(
            Effect.flatMap(PodAudit.audit(namespace, "failover"), (a) =>
              a.claimable.length === 10 ? Effect.void : Effect.fail(a.claimable.length),
            ),
            { timeout: "60 seconds", interval: "200 millis" },
          )

          yield* leader.kill
          const killed = Date.now()
          // Allocation needs no leader: the follower serves from the warm Pods at once.
          const sandboxes = yield* Effect.all(
            Array.from({ length: 5 }, () =>
              Load.attempt(`${follower.apiUrl}/v1/sandboxes`, {
                method: "POST",
                key,
                body: { pool: "failover" },
              }),
            ),
            { concurrency: "unbounded" },
          )
          assert.deepStrictEqual(Load.tally(sandboxes), { 201: 5 })
          // Once the dead leader's Lease lapses the follower leads, and refills the pool.
          yield* Eventually.eventually(
            Effect.flatMap(Leader.leaderOf(system), (holder) =>
              holder === "follower" ? Effect.void : Effect.fail(holder),
            ),
            { timeout: "60 seconds", interval: "500 millis" },
          )
          console.log(`[failover] follower leads ${seconds(killed)} after the kill`)
          const refilled = yield* Eventually.eventually(
            Effect.flatMap(PodAudit.audit(namespace, "failover"), (a) =>
              a.claimable.length === 10 ? Effect.succeed(a) : Effect.fail(a.claimable.length),
            ),
            { timeout: "30 seconds", interval: "200 millis" },
          )
          for (const s of sandboxes) assert.strictEqual(refilled.allocated.get(s.body.pod), s.body.id)
          assert.deepStrictEqual(refilled.inconsistent, [])
          console.log(
            `[failover] pool refilled ${seconds(killed)} after the kill; done in ${seconds(started)}`,
          )
        }),
      ),
    120_000,
  )
})
