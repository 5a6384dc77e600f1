import { assert, describe, it } from "@effect/vitest"
import { type PodFacts, type PoolFacts, plan } from "../src/pool/PoolPlan.ts"

const now = 1_000_000
const pod = (name: string, over: Partial<PodFacts> = {}): PodFacts => ({
  name,
  state: "idle",
  ready: true,
  failed: false,
  deleting: false,
  expiresAt: undefined,
  ...over,
})
const facts = (over: Partial<PoolFacts> = {}): PoolFacts => ({
  policy: { replicas: 3, maxPods: undefined, autoscaling: undefined },
  pods: [],
  pendingCreates: 0,
  waiting: 0,
  lastActivityAt: undefined,
  now,
  ...over,
})

describe("PoolPlan", () => {
  it("fills an empty pool to its warm target", () => {
    const p = plan(facts())
    assert.strictEqual(p.create, 3)
    assert.deepStrictEqual(p.delete, [])
  })

  it("counts starting Pods and unobserved creates as warm", () => {
    const p = plan(facts({ pods: [pod("a"), pod("b", { ready: false })], pendingCreates: 1 }))
    assert.strictEqual(p.create, 0)
    assert.strictEqual(p.counts.starting, 1)
  })

  it("replaces allocated Pods: allocation does not count toward the warm target", () => {
    const p = plan(facts({ pods: [pod("a", { state: "allocated" }), pod("b"), pod("c")] }))
    assert.strictEqual(p.create, 1)
    assert.strictEqual(p.counts.allocated, 1)
  })

  it("deletes failed and expired Pods and says why", () => {
    const p = plan(
      facts({
        pods: [
          pod("f", { failed: true }),
          pod("e", { state: "allocated", expiresAt: now - 1 }),
          pod("l", { state: "allocated", expiresAt: now + 5_000 }),
        ],
      }),
    )
    assert.deepStrictEqual(p.delete, [
      { name: "f", reason: "Failed" },
      { name: "e", reason: "Expired" },
    ])
    assert.strictEqual(p.create, 3)
    assert.strictEqual(p.requeueAfterMs, 5_000)
  })

  it("ignores Pods already being deleted", () => {
    const p = plan(facts({ pods: [pod("a", { deleting: true })] }))
    assert.strictEqual(p.create, 3)
    assert.strictEqual(p.counts.terminating, 1)
  })

  it("scales down the surplus, starting Pods first", () => {
    const p = plan(
      facts({
        policy: { replicas: 1, maxPods: undefined, autoscaling: undefined },
        pods: [pod("a"), pod("b"), pod("c", { ready: false })],
      }),
    )
    assert.deepStrictEqual(
      p.delete.map((d) => d.name),
      ["c", "a"],
    )
  })

  it("adds waiting callers to the target, within maxPods", () => {
    const p = plan(
      facts({
        policy: { replicas: 2, maxPods: 5, autoscaling: undefined },
        pods: [pod("x", { state: "allocated" }), pod("y", { state: "allocated" })],
        waiting: 10,
      }),
    )
    assert.strictEqual(p.warmTarget, 12)
    assert.strictEqual(p.create, 3)
  })

  it("autoscaling clamps the target and scales to zero after a quiet period", () => {
    const autoscaling = { minReplicas: 1, maxReplicas: 4, scaleToZeroAfterSeconds: 60 }
    const policy = { replicas: 2, maxPods: undefined, autoscaling }
    assert.strictEqual(plan(facts({ policy, waiting: 10, lastActivityAt: now })).warmTarget, 4)
    const quiet = plan(facts({ policy, pods: [pod("a"), pod("b")], lastActivityAt: now - 61_000 }))
    assert.isTrue(quiet.scaledToZero)
    assert.strictEqual(quiet.delete.length, 2)
    const active = plan(facts({ policy, pods: [pod("a"), pod("b")], lastActivityAt: now - 10_000 }))
    assert.strictEqual(active.warmTarget, 2)
    assert.strictEqual(active.requeueAfterMs, 50_000)
    // A caller waiting on a pool scaled to zero wakes it.
    assert.strictEqual(plan(facts({ policy, waiting: 1, lastActivityAt: now - 3_600_000 })).create, 3)
  })
})
