import { assert, describe, it } from "@effect/vitest"
import {
  endGraceMs,
  type PodFacts,
  type PoolFacts,
  plan,
  refillPauseMs,
  resolveBurstReserve,
  resolveMaxUnavailable,
} from "../src/pool/PoolPlan.ts"

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

  it("deletes failed Pods and ends expired sandboxes, and says why", () => {
    const p = plan(
      facts({
        pods: [
          pod("f", { failed: true }),
          pod("e", { state: "allocated", expiresAt: now - 1 }),
          pod("l", { state: "allocated", expiresAt: now + 5_000 }),
        ],
      }),
    )
    assert.deepStrictEqual(p.delete, [{ name: "f", reason: "Failed" }])
    assert.deepStrictEqual(p.end, [{ name: "e", reason: "Expired" }])
    assert.strictEqual(p.create, 3)
    assert.strictEqual(p.requeueAfterMs, 5_000)
  })

  it("counts an ending sandbox whose Pod is recycled in place as warm: no create for it", () => {
    const p = plan(
      facts({
        pods: [pod("e", { state: "allocated", expiresAt: now - 1, recyclable: true }), pod("a"), pod("b")],
      }),
    )
    assert.deepStrictEqual(p.end, [{ name: "e", reason: "Expired" }])
    assert.strictEqual(p.create, 0)
  })

  it("counts recycling Pods apart and replaces one whose recycle does not come up in time", () => {
    const p = plan(
      facts({
        policy: { replicas: 2, maxPods: undefined, autoscaling: undefined, startupTimeoutMs: 10_000 },
        pods: [
          pod("r", { ready: false, restarting: { reason: "recycle", at: now - 1_000 } }),
          pod("stuck", { ready: false, restarting: { reason: "recycle", at: now - 10_000 } }),
          pod("a"),
        ],
      }),
    )
    assert.deepStrictEqual(p.delete, [{ name: "stuck", reason: "StartupTimeout" }])
    assert.strictEqual(p.counts.recycling, 2)
    assert.strictEqual(p.counts.starting, 0)
    assert.strictEqual(p.create, 0)
    assert.strictEqual(p.requeueAfterMs, 9_000)
  })

  it("ends a sandbox whose image did not come up within the startup timeout (and a grace for its caller)", () => {
    const p = plan(
      facts({
        policy: { replicas: 0, maxPods: undefined, autoscaling: undefined, startupTimeoutMs: 10_000 },
        pods: [
          pod("slow", {
            state: "allocated",
            ready: false,
            restarting: { reason: "allocate", at: now - 4_000 },
          }),
          pod("dead", {
            state: "allocated",
            ready: false,
            restarting: { reason: "allocate", at: now - 10_000 - endGraceMs },
          }),
        ],
      }),
    )
    assert.deepStrictEqual(p.end, [{ name: "dead", reason: "StartupTimeout" }])
    assert.strictEqual(p.requeueAfterMs, 6_000 + endGraceMs)
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

  describe("rollout", () => {
    const inPlace = (maxUnavailable: number) => ({
      replicas: 5,
      maxPods: undefined,
      autoscaling: undefined,
      update: { type: "InPlace" as const, maxUnavailable },
    })
    const names = (n: number, over: Partial<PodFacts>) =>
      Array.from({ length: n }, (_, i) => pod(`p${i}`, over))

    it("updates image-only differences in place, maxUnavailable at a time, creating and deleting nothing", () => {
      const p = plan(facts({ policy: inPlace(2), pods: names(5, { relation: "InPlace" }) }))
      assert.deepStrictEqual(p.update, ["p0", "p1"])
      assert.strictEqual(p.create, 0)
      assert.deepStrictEqual(p.delete, [])
      assert.strictEqual(p.counts.updated, 0)
    })

    it("counts Pods still updating against maxUnavailable", () => {
      const pods = [
        pod("u", { ready: false, restarting: { reason: "update", at: now } }),
        ...names(4, { relation: "InPlace" }),
      ]
      assert.deepStrictEqual(plan(facts({ policy: inPlace(2), pods })).update, ["p0"])
      assert.deepStrictEqual(plan(facts({ policy: inPlace(1), pods })).update, [])
    })

    it("waits on an update that never comes up instead of churning Pods, and says so", () => {
      const p = plan(
        facts({
          policy: { ...inPlace(1), startupTimeoutMs: 1_000 },
          pods: [
            pod("u", { ready: false, restarting: { reason: "update", at: now - 5_000 } }),
            ...names(4, { relation: "InPlace" }),
          ],
        }),
      )
      assert.deepStrictEqual(p.update, [])
      assert.deepStrictEqual(p.delete, [])
      assert.strictEqual(p.counts.stalled, 1)
    })

    it("leaves allocated Pods of an old revision alone", () => {
      const p = plan(
        facts({
          policy: inPlace(5),
          pods: [...names(5, {}), pod("x", { state: "allocated", relation: "InPlace" })],
        }),
      )
      assert.deepStrictEqual(p.update, [])
      assert.deepStrictEqual(p.delete, [])
    })

    it("recreates Pods that differ beyond images, keeping the Ready warm Pods at the target", () => {
      const policy = inPlace(2)
      // All old: two replacements start (a surge), no old Pod goes yet.
      const start = plan(facts({ policy, pods: names(5, { relation: "Recreate" }) }))
      assert.strictEqual(start.create, 2)
      assert.deepStrictEqual(start.delete, [])
      // Replacements starting: nothing more until they are Ready.
      const surging = plan(
        facts({
          policy,
          pods: [
            ...names(5, { relation: "Recreate" }),
            pod("n0", { ready: false }),
            pod("n1", { ready: false }),
          ],
        }),
      )
      assert.strictEqual(surging.create, 0)
      assert.deepStrictEqual(surging.delete, [])
      // Two Ready: two old ones go, two more replacements start.
      const next = plan(
        facts({ policy, pods: [...names(5, { relation: "Recreate" }), pod("n0"), pod("n1")] }),
      )
      assert.deepStrictEqual(
        next.delete.map((d) => [d.name, d.reason]),
        [
          ["p0", "Outdated"],
          ["p1", "Outdated"],
        ],
      )
      assert.strictEqual(next.create, 2)
      // Old Pods that are not Ready serve nobody: replaced at once.
      const broken = plan(
        facts({ policy, pods: [...names(5, {}), pod("o", { relation: "Recreate", ready: false })] }),
      )
      assert.deepStrictEqual(broken.delete, [{ name: "o", reason: "Outdated" }])
    })

    it("with the Recreate strategy replaces image-only differences too", () => {
      const p = plan(
        facts({
          policy: { ...inPlace(1), update: { type: "Recreate", maxUnavailable: 1 } },
          pods: names(5, { relation: "InPlace" }),
        }),
      )
      assert.deepStrictEqual(p.update, [])
      assert.strictEqual(p.create, 1)
    })

    it("resolves maxUnavailable percentages against the warm target, at least one", () => {
      assert.strictEqual(resolveMaxUnavailable("25%", 50), 12)
      assert.strictEqual(resolveMaxUnavailable("10%", 5), 1)
      assert.strictEqual(resolveMaxUnavailable(0, 5), 1)
      assert.strictEqual(resolveMaxUnavailable(7, 5), 7)
    })
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

describe("PoolPlan refills after a burst", () => {
  it("waits for a pause in claims while the pool is at least half warm, then refills", () => {
    const policy = { replicas: 4, maxPods: undefined, autoscaling: undefined }
    const pods = [pod("a"), pod("b"), pod("c", { state: "allocated" })]
    const during = plan(facts({ policy, pods, lastActivityAt: now - 200 }))
    assert.strictEqual(during.create, 0)
    assert.strictEqual(during.requeueAfterMs, refillPauseMs - 200)
    assert.strictEqual(plan(facts({ policy, pods, lastActivityAt: now - refillPauseMs })).create, 2)
  })

  it("below the reserve it refills only up to the reserve while claims flow, the rest after the pause", () => {
    const policy = { replicas: 8, maxPods: undefined, autoscaling: undefined, burstReserve: 4 }
    const idle = ["a", "b"].map((n) => pod(n))
    const allocated = ["c", "d", "e", "f", "g", "h"].map((n) => pod(n, { state: "allocated" }))
    const during = plan(facts({ policy, pods: [...idle, ...allocated], lastActivityAt: now - 100 }))
    assert.strictEqual(during.create, 2) // back to the reserve of 4, one for one with the claims
    assert.strictEqual(during.requeueAfterMs, refillPauseMs - 100)
    // Creates the watch has not shown yet count toward the reserve.
    assert.strictEqual(
      plan(facts({ policy, pods: [...idle, ...allocated], pendingCreates: 2, lastActivityAt: now })).create,
      0,
    )
    const after = plan(facts({ policy, pods: [...idle, ...allocated], lastActivityAt: now - refillPauseMs }))
    assert.strictEqual(after.create, 6)
    // Unset, the reserve is a quarter of the warm target; "100%" refills at once.
    const { burstReserve: _, ...quarter } = policy
    const one = [pod("a"), ...allocated, pod("i", { state: "allocated" })]
    assert.strictEqual(plan(facts({ policy: quarter, pods: one, lastActivityAt: now })).create, 1)
    const full = { ...policy, burstReserve: resolveBurstReserve("100%", 8) }
    assert.strictEqual(plan(facts({ policy: full, pods: one, lastActivityAt: now })).create, 7)
    assert.strictEqual(resolveBurstReserve("25%", 10), 3)
  })

  it("refills everything at once when callers wait", () => {
    const policy = { replicas: 4, maxPods: undefined, autoscaling: undefined }
    const half = [pod("a"), pod("b"), pod("c", { state: "allocated" })]
    assert.strictEqual(plan(facts({ policy, pods: half, lastActivityAt: now, waiting: 1 })).create, 3)
    const low = [pod("a"), pod("b", { state: "allocated" }), pod("c", { state: "allocated" })]
    assert.strictEqual(plan(facts({ policy, pods: low, lastActivityAt: now, waiting: 1 })).create, 4)
  })
})

describe("PoolPlan with plain Pods by count", () => {
  // The same pool planned two ways: every Pod named, or the plain ones (idle Ready current, and
  // allocated ones neither ending nor changing) given by count, as PoolLedger gives them.
  const isPlain = (p: PodFacts) =>
    !p.deleting &&
    !p.failed &&
    p.restarting === undefined &&
    (p.relation ?? "Current") === "Current" &&
    (p.state === "allocated" ? p.expiresAt === undefined || p.expiresAt > now : p.ready)
  const split = (f: PoolFacts): PoolFacts => {
    const plain = f.pods.filter(isPlain)
    const expiries = plain.flatMap((p) =>
      p.state === "allocated" && p.expiresAt !== undefined ? [p.expiresAt] : [],
    )
    return {
      ...f,
      pods: f.pods.filter((p) => !isPlain(p)),
      plain: {
        idle: plain.filter((p) => p.state === "idle").length,
        allocated: plain.filter((p) => p.state === "allocated").length,
        nextExpiry: expiries.length === 0 ? undefined : Math.min(...expiries),
        idleNames: () => plain.filter((p) => p.state === "idle").map((p) => p.name),
      },
    }
  }
  const many = (prefix: string, n: number, over: Partial<PodFacts> = {}) =>
    Array.from({ length: n }, (_, i) => pod(`${prefix}${String(i).padStart(3, "0")}`, over))
  const scenarios: ReadonlyArray<readonly [string, PoolFacts]> = [
    ["full", facts({ pods: many("i", 3) })],
    [
      "claimed during a burst",
      facts({
        policy: { replicas: 8, maxPods: undefined, autoscaling: undefined },
        pods: [...many("i", 5), ...many("a", 3, { state: "allocated", expiresAt: now + 60_000 })],
        lastActivityAt: now - 10,
      }),
    ],
    [
      "claimed, burst over",
      facts({
        policy: { replicas: 8, maxPods: undefined, autoscaling: undefined },
        pods: [...many("i", 5), ...many("a", 3, { state: "allocated", expiresAt: now + 9_000 })],
        lastActivityAt: now - 5_000,
      }),
    ],
    ["surplus after releases", facts({ pods: [...many("i", 6), pod("s", { ready: false })] })],
    [
      "expired and failed among plain",
      facts({
        pods: [
          ...many("i", 2),
          pod("e", { state: "allocated", expiresAt: now - 1, recyclable: true }),
          pod("f", { failed: true }),
          pod("d", { deleting: true }),
          ...many("a", 2, { state: "allocated", expiresAt: now + 100 }),
        ],
      }),
    ],
    [
      "a rollout",
      facts({
        pods: [...many("i", 2), ...many("o", 2, { relation: "InPlace" }), pod("r", { relation: "Recreate" })],
      }),
    ],
    [
      "capped by maxPods",
      facts({
        policy: { replicas: 5, maxPods: 6, autoscaling: undefined },
        pods: [...many("i", 1), ...many("a", 4, { state: "allocated" })],
        pendingCreates: 1,
      }),
    ],
    ["callers waiting", facts({ pods: many("a", 3, { state: "allocated" }), waiting: 4 })],
  ]
  for (const [name, whole] of scenarios) {
    it(`plans the same: ${name}`, () => {
      assert.deepStrictEqual(plan(split(whole)), plan(whole))
    })
  }

  it("reads the plain idle Pods' names only when some must go", () => {
    let read = 0
    const plain = {
      idle: 500,
      allocated: 20,
      nextExpiry: undefined,
      idleNames: () => {
        read++
        return []
      },
    }
    const p = plan(facts({ policy: { replicas: 500, maxPods: undefined, autoscaling: undefined }, plain }))
    assert.strictEqual(p.create, 0)
    assert.strictEqual(p.counts.total, 520)
    assert.strictEqual(read, 0)
  })
})
