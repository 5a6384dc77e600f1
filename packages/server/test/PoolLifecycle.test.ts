import { KubeClient, Patch, ResourceType } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { Eventually, FreePorts, Load, TestCluster } from "@agent-sandbox/testing"
import { Leader, OperatorHarness, OperatorNamespaces, PodAudit, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"

/** Two replicas over one namespace; tests find out which one leads. */
class Env extends Context.Tag("PoolLifecycleEnv")<
  Env,
  {
    readonly namespace: string
    readonly key: string
    readonly leader: OperatorHarness.RunningOperator
    readonly follower: OperatorHarness.RunningOperator
  }
>() {}

const env = Layer.scoped(
  Env,
  Effect.gen(function* () {
    const { namespace, system } = yield* OperatorNamespaces.make("pool-life")
    const ports = yield* FreePorts.freePorts(4)
    const start = (replicaId: string, apiPort: number, probePort: number) =>
      OperatorHarness.startOperator({
        namespace,
        systemNamespace: system,
        apiPort,
        probePort,
        replicaId,
        maxWaitMillis: 20_000,
      })
    const a = yield* start("replica-a", ports[0]!, ports[1]!)
    const b = yield* start("replica-b", ports[2]!, ports[3]!)
    const key = yield* OperatorHarness.mintKey(system, "life")
    for (const replica of [a, b]) {
      yield* Eventually.eventually(
        Effect.flatMap(Load.attempt(`${replica.apiUrl}/v1/pools`, { key }), (r) =>
          r.status === 200 ? Effect.void : Effect.fail(r),
        ),
      )
    }
    const leader = yield* Eventually.eventually(Leader.leaderOf(system))
    return leader === "replica-a"
      ? { namespace, key, leader: a, follower: b }
      : { namespace, key, leader: b, follower: a }
  }),
).pipe(Layer.provideMerge(TestCluster.layer))

const claimableCount = (namespace: string, pool: string, count: number) =>
  Eventually.eventually(
    Effect.flatMap(PodAudit.audit(namespace, pool), (a) =>
      a.claimable.length === count ? Effect.succeed(a) : Effect.fail(`${a.claimable.length} claimable`),
    ),
    { timeout: "60 seconds", interval: "200 millis" },
  )

const podGone = (namespace: string, name: string) =>
  Eventually.eventually(
    Effect.flatMap(KubeClient.KubeClient, (client) =>
      Effect.either(client.get(ResourceType.Pod, name, { namespace })),
    ).pipe(
      Effect.flatMap((r) =>
        r._tag === "Left" || r.right.metadata?.deletionTimestamp !== undefined
          ? Effect.void
          : Effect.fail(`${name} still there`),
      ),
    ),
    { timeout: "60 seconds", interval: "200 millis" },
  )

/**
 * The sandbox has ended: its Pod is gone, or no longer carries it (a pool may recycle the Pod
 * in place for the next caller instead of deleting it).
 */
const sandboxEnded = (namespace: string, pod: string, id: string) =>
  Eventually.eventually(
    Effect.flatMap(KubeClient.KubeClient, (client) =>
      Effect.either(client.get(ResourceType.Pod, pod, { namespace })),
    ).pipe(
      Effect.flatMap((r) =>
        r._tag === "Left" ||
        r.right.metadata?.deletionTimestamp !== undefined ||
        r.right.metadata?.labels?.["sandbox.agent-sandbox.dev/sandbox-id"] !== id
          ? Effect.void
          : Effect.fail(`${pod} still carries ${id}`),
      ),
    ),
    { timeout: "60 seconds", interval: "200 millis" },
  )

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`

layer(env, { timeout: "120 seconds", excludeTestServices: true })("pool lifecycle on two replicas", (it) => {
  it.effect(
    "an expired sandbox ends; extending pushes the expiry out",
    () =>
      Effect.gen(function* () {
        const started = Date.now()
        const { namespace, key, follower, leader } = yield* Env
        yield* Pools.createPool(namespace, "expiry", {
          replicas: 2,
          sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
        })
        yield* claimableCount(namespace, "expiry", 2)
        const short = yield* Load.attempt(`${follower.apiUrl}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "expiry", timeoutSeconds: 2 },
        })
        assert.strictEqual(short.status, 201, JSON.stringify(short))
        // Long enough that a loaded machine still extends it before its first deadline.
        const kept = yield* Load.attempt(`${leader.apiUrl}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "expiry", timeoutSeconds: 8 },
        })
        assert.strictEqual(kept.status, 201, JSON.stringify(kept))
        const extended = yield* Load.attempt(`${follower.apiUrl}/v1/sandboxes/${kept.body.id}/timeout`, {
          method: "POST",
          key,
          body: { timeoutSeconds: 60 },
        })
        assert.strictEqual(extended.status, 200, JSON.stringify(extended))

        yield* sandboxEnded(namespace, short.body.pod, short.body.id)
        console.log(`[expiry] 2 s sandbox deleted after ${seconds(started)}`)
        for (const replica of [leader, follower]) {
          yield* Eventually.eventually(
            Effect.flatMap(Load.attempt(`${replica.apiUrl}/v1/sandboxes/${short.body.id}`, { key }), (r) =>
              r.status === 404 ? Effect.void : Effect.fail(r.status),
            ),
          )
        }
        // The extended one outlives its first deadline by far (it now has a minute).
        const firstDeadline = Date.parse(kept.body.expiresAt)
        yield* Effect.sleep(Math.max(0, firstDeadline + 2_000 - Date.now()))
        const still = yield* Load.attempt(`${leader.apiUrl}/v1/sandboxes/${kept.body.id}`, { key })
        assert.strictEqual(still.status, 200, JSON.stringify(still))
        const audited = yield* PodAudit.audit(namespace, "expiry")
        assert.strictEqual(audited.allocated.get(kept.body.pod), kept.body.id)

        // Shortened again, it goes.
        const shortened = yield* Load.attempt(`${leader.apiUrl}/v1/sandboxes/${kept.body.id}/timeout`, {
          method: "POST",
          key,
          body: { timeoutSeconds: 1 },
        })
        assert.strictEqual(shortened.status, 200)
        yield* sandboxEnded(namespace, kept.body.pod, kept.body.id)
        console.log(`[expiry] done in ${seconds(started)}`)
      }),
    90_000,
  )

  it.effect(
    "scales to zero when idle, then a caller on either replica waits while it scales up",
    () =>
      Effect.gen(function* () {
        const started = Date.now()
        const { namespace, key, leader, follower } = yield* Env
        yield* Pools.createPool(namespace, "zero", {
          replicas: 1,
          autoscaling: { minReplicas: 1, maxReplicas: 3, scaleToZeroAfterSeconds: 3 },
          sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
        })
        yield* claimableCount(namespace, "zero", 1)
        for (const [name, replica] of [
          ["follower", follower],
          ["leader", leader],
        ] as const) {
          yield* Eventually.eventually(
            Effect.flatMap(PodAudit.audit(namespace, "zero"), (a) =>
              a.idle.length === 0 ? Effect.void : Effect.fail(`${a.idle.length} idle`),
            ),
            { timeout: "60 seconds", interval: "200 millis" },
          )
          console.log(`[zero] scaled to zero after ${seconds(started)}`)
          const asked = Date.now()
          const sandbox = yield* Load.attempt(`${replica.apiUrl}/v1/sandboxes`, {
            method: "POST",
            key,
            body: { pool: "zero" },
          })
          assert.strictEqual(sandbox.status, 201, `${name}: ${JSON.stringify(sandbox)}`)
          console.log(`[zero] allocation through the ${name} waited ${seconds(asked)}`)
          // The pool refills to its minimum while there is activity.
          yield* claimableCount(namespace, "zero", 1)
          const pool = yield* PodAudit.audit(namespace, "zero")
          assert.strictEqual(pool.allocated.get(sandbox.body.pod), sandbox.body.id)
        }
        // Nobody waits any more: no replica's waiting count is left on the pool.
        yield* Eventually.eventually(
          Effect.flatMap(KubeClient.KubeClient, (client) =>
            client.get(SandboxResources.SandboxPoolResource, "zero", { namespace }),
          ).pipe(
            Effect.flatMap((pool) => {
              const left = Object.keys(pool.metadata.annotations ?? {}).filter((k) => k.includes("/waiting-"))
              return left.length === 0 ? Effect.void : Effect.fail(left)
            }),
          ),
        )
      }),
    120_000,
  )

  it.effect(
    "a batch that cannot be filled fails whole and gives back what it took",
    () =>
      Effect.gen(function* () {
        const started = Date.now()
        const { namespace, key, follower } = yield* Env
        // The startup timeout bounds the wait: 2 s, then 503.
        yield* Pools.createPool(namespace, "batch", {
          replicas: 5,
          maxPods: 5,
          sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 2 },
        })
        yield* claimableCount(namespace, "batch", 5)
        const batch = yield* Load.attempt(`${follower.apiUrl}/v1/sandboxes/batch`, {
          method: "POST",
          key,
          body: { pool: "batch", count: 8 },
        })
        assert.strictEqual(batch.status, 503, JSON.stringify(batch))
        assert.strictEqual(batch.body._tag, "CapacityUnavailable")
        // All or none: the five it had claimed are released, and the pool is whole again.
        const after = yield* Eventually.eventually(
          Effect.flatMap(PodAudit.audit(namespace, "batch"), (a) =>
            a.allocated.size === 0 && a.claimable.length === 5
              ? Effect.succeed(a)
              : Effect.fail(a.allocated.size),
          ),
          { timeout: "30 seconds", interval: "200 millis" },
        )
        assert.deepStrictEqual(after.inconsistent, [])
        const listed = yield* Load.attempt(`${follower.apiUrl}/v1/sandboxes?pool=batch`, { key })
        assert.deepStrictEqual(listed.body.items, [])
        console.log(`[batch] failed batch rolled back in ${seconds(started)}`)
      }),
    60_000,
  )

  it.effect(
    "replaces idle Pods deleted by hand and a Pod that failed",
    () =>
      Effect.gen(function* () {
        const started = Date.now()
        const { namespace } = yield* Env
        const client = yield* KubeClient.KubeClient
        yield* Pools.createPool(namespace, "refill", { replicas: 3 })
        const first = yield* claimableCount(namespace, "refill", 3)
        const deleted = first.claimable.slice(0, 2).map((p) => p.metadata?.name ?? "")
        for (const name of deleted) yield* client.delete(ResourceType.Pod, name, { namespace })
        const refilled = yield* Eventually.eventually(
          Effect.flatMap(PodAudit.audit(namespace, "refill"), (a) => {
            const names = a.claimable.map((p) => p.metadata?.name ?? "")
            return names.length === 3 && !names.some((n) => deleted.includes(n))
              ? Effect.succeed(a)
              : Effect.fail(names)
          }),
          { timeout: "60 seconds", interval: "200 millis" },
        )
        console.log(`[refill] deleted Pods replaced after ${seconds(started)}`)

        // As a kubelet would report it: the container exited and the Pod failed.
        const victim = refilled.claimable[0]!.metadata?.name ?? ""
        yield* client.patchStatus(
          ResourceType.Pod,
          victim,
          Patch.merge({
            status: {
              phase: "Failed",
              conditions: [{ type: "Ready", status: "False", reason: "PodFailed" }],
            },
          }),
          { namespace },
        )
        yield* podGone(namespace, victim)
        yield* Eventually.eventually(
          Effect.flatMap(PodAudit.audit(namespace, "refill"), (a) => {
            const names = a.claimable.map((p) => p.metadata?.name ?? "")
            return names.length === 3 && !names.includes(victim) ? Effect.void : Effect.fail(names)
          }),
          { timeout: "60 seconds", interval: "200 millis" },
        )
        console.log(`[refill] failed Pod replaced after ${seconds(started)}`)
      }),
    90_000,
  )
})
