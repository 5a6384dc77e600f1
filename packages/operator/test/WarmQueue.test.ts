import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, TestClock } from "effect"
import * as IdlePods from "../src/allocation/IdlePods.ts"
import * as WarmQueue from "../src/allocation/WarmQueue.ts"

const pod = (name: string, image = "img:1", resourceVersion = "1") => ({ name, image, resourceVersion })
const queue = (waitCapacity = 10) => WarmQueue.make({ salt: "replica-a", waitCapacity })

describe("IdlePods", () => {
  it("prefers the requested image, else the largest group", () => {
    let idle = IdlePods.empty("s")
    for (const p of [pod("a", "big"), pod("b", "big"), pod("c", "small")]) idle = IdlePods.upsert(idle, p)
    const preferred = Option.getOrThrow(IdlePods.take(idle, "small"))
    assert.strictEqual(preferred[0].name, "c")
    const any = Option.getOrThrow(IdlePods.take(idle, "missing"))
    assert.strictEqual(any[0].image, "big")
    assert.strictEqual(IdlePods.size(any[1]), 2)
  })

  it("orders Pods differently for different salts", () => {
    const names = Array.from({ length: 20 }, (_, i) => `pod-${i}`)
    const first = (salt: string) => {
      let idle = IdlePods.empty(salt)
      for (const n of names) idle = IdlePods.upsert(idle, pod(n))
      return Option.getOrThrow(IdlePods.take(idle))[0].name
    }
    const firsts = new Set(["r1", "r2", "r3", "r4", "r5"].map(first))
    assert.isAbove(firsts.size, 1)
  })

  it("upsert replaces an older version and moves it between images", () => {
    let idle = IdlePods.upsert(IdlePods.empty("s"), pod("a", "x", "1"))
    idle = IdlePods.upsert(idle, pod("a", "y", "2"))
    assert.strictEqual(IdlePods.size(idle), 1)
    assert.deepStrictEqual(Option.getOrThrow(IdlePods.take(idle, "y"))[0], pod("a", "y", "2"))
  })
})

describe("WarmQueue", () => {
  it.effect("takes an idle Pod at once and never the same Pod twice", () =>
    Effect.gen(function* () {
      const q = yield* queue()
      for (let i = 0; i < 50; i++) yield* WarmQueue.offer(q, pod(`p${i}`))
      const taken = yield* Effect.all(
        Array.from({ length: 50 }, () => WarmQueue.take(q, { wait: "1 second" })),
        { concurrency: "unbounded" },
      )
      assert.strictEqual(new Set(taken.map((p) => p.name)).size, 50)
      assert.strictEqual(yield* WarmQueue.idleCount(q), 0)
    }),
  )

  it.effect("serves waiters first come, first served", () =>
    Effect.gen(function* () {
      const q = yield* queue()
      const first = yield* Effect.fork(WarmQueue.take(q, { wait: "10 seconds" }))
      yield* TestClock.adjust("1 millis")
      const second = yield* Effect.fork(WarmQueue.take(q, { wait: "10 seconds" }))
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* WarmQueue.waitingCount(q), 2)
      yield* WarmQueue.offer(q, pod("one"))
      yield* WarmQueue.offer(q, pod("two"))
      assert.strictEqual((yield* Fiber.join(first)).name, "one")
      assert.strictEqual((yield* Fiber.join(second)).name, "two")
      assert.strictEqual(yield* WarmQueue.waitingCount(q), 0)
    }),
  )

  it.effect("times out a waiter and then leaves the next Pod idle", () =>
    Effect.gen(function* () {
      const q = yield* queue()
      const waiter = yield* Effect.fork(WarmQueue.take(q, { wait: "5 seconds" }))
      yield* TestClock.adjust("6 seconds")
      const exit = yield* Fiber.await(waiter)
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(yield* WarmQueue.waitingCount(q), 0)
      yield* WarmQueue.offer(q, pod("late"))
      assert.strictEqual(yield* WarmQueue.idleCount(q), 1)
    }),
  )

  it.effect("rejects callers beyond the line's capacity", () =>
    Effect.gen(function* () {
      const q = yield* queue(2)
      yield* Effect.fork(WarmQueue.take(q, { wait: "1 minute" }))
      yield* Effect.fork(WarmQueue.take(q, { wait: "1 minute" }))
      yield* TestClock.adjust("1 millis")
      const third = yield* Effect.flip(WarmQueue.take(q, { wait: "1 minute" }))
      assert.strictEqual(third._tag, "QueueFull")
    }),
  )

  it.effect("an interrupted waiter gives a served Pod back", () =>
    Effect.gen(function* () {
      const q = yield* queue()
      const waiter = yield* Effect.fork(WarmQueue.take(q, { wait: "1 minute" }))
      yield* TestClock.adjust("1 millis")
      yield* Fiber.interrupt(waiter)
      assert.strictEqual(yield* WarmQueue.waitingCount(q), 0)
      yield* WarmQueue.offer(q, pod("kept"))
      assert.strictEqual(yield* WarmQueue.idleCount(q), 1)
    }),
  )

  it.effect("after a lost claim, the Pod returns only as the watch saw it since", () =>
    Effect.gen(function* () {
      const q = yield* queue()
      yield* WarmQueue.offer(q, pod("a", "img:1", "1"))
      const taken = yield* WarmQueue.take(q, { wait: "1 second" })
      // The watch reports a newer idle version while the claim is in flight: it is remembered.
      yield* WarmQueue.offer(q, pod("a", "img:1", "2"))
      assert.strictEqual(yield* WarmQueue.idleCount(q), 0)
      yield* WarmQueue.settle(q, taken, "conflict")
      const again = yield* WarmQueue.take(q, { wait: "1 second" })
      assert.strictEqual(again.resourceVersion, "2")
      // Claimed elsewhere (watch removes it) then conflict: it stays out.
      yield* WarmQueue.remove(q, "a")
      yield* WarmQueue.settle(q, again, "conflict")
      assert.strictEqual(yield* WarmQueue.idleCount(q), 0)
    }),
  )

  it.effect("an unused Pod goes back as taken; a claimed one does not", () =>
    Effect.gen(function* () {
      const q = yield* queue()
      yield* WarmQueue.offer(q, pod("a"))
      yield* WarmQueue.offer(q, pod("b"))
      const one = yield* WarmQueue.take(q, { wait: "1 second" })
      const two = yield* WarmQueue.take(q, { wait: "1 second" })
      yield* WarmQueue.settle(q, one, "unused")
      yield* WarmQueue.settle(q, two, "claimed")
      assert.strictEqual(yield* WarmQueue.idleCount(q), 1)
      yield* WarmQueue.offer(q, two) // a stale watch event after the claim settles re-adds; the label check filters it upstream
    }),
  )

  it.effect("onQueued runs once the caller counts as waiting", () =>
    Effect.gen(function* () {
      const q = yield* queue()
      let seen = -1
      const waiter = yield* Effect.fork(
        WarmQueue.take(q, {
          wait: "1 minute",
          onQueued: Effect.flatMap(WarmQueue.waitingCount(q), (n) => Effect.sync(() => (seen = n))),
        }),
      )
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(seen, 1)
      yield* WarmQueue.offer(q, pod("a"))
      assert.strictEqual((yield* Fiber.join(waiter)).name, "a")
    }),
  )

  it.effect("takeMasked: a caller interrupted after taking still hands the Pod over to be settled", () =>
    Effect.gen(function* () {
      const q = yield* queue()
      yield* WarmQueue.offer(q, pod("a"))
      const gate = yield* Deferred.make<void>()
      const settled = yield* Deferred.make<string>()
      // Taking and settling in one masked region: interruption waits until the Pod is settled.
      const caller = yield* Effect.fork(
        Effect.uninterruptibleMask((restore) =>
          Effect.gen(function* () {
            const taken = yield* WarmQueue.takeMasked(q, { wait: "1 minute" }, restore)
            yield* Deferred.await(gate)
            yield* WarmQueue.settle(q, taken, "unused")
            yield* Deferred.succeed(settled, taken.name)
          }),
        ),
      )
      yield* TestClock.adjust("1 millis")
      const interrupting = yield* Effect.fork(Fiber.interrupt(caller))
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(interrupting)
      assert.strictEqual(yield* Deferred.await(settled), "a")
      assert.strictEqual(yield* WarmQueue.idleCount(q), 1)
    }),
  )

  it.effect("takeMasked: the wait in line stays interruptible and leaves the line clean", () =>
    Effect.gen(function* () {
      const q = yield* queue()
      const waiter = yield* Effect.fork(
        Effect.uninterruptibleMask((restore) => WarmQueue.takeMasked(q, { wait: "1 minute" }, restore)),
      )
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* WarmQueue.waitingCount(q), 1)
      yield* Fiber.interrupt(waiter)
      assert.strictEqual(yield* WarmQueue.waitingCount(q), 0)
      yield* WarmQueue.offer(q, pod("kept"))
      assert.strictEqual(yield* WarmQueue.idleCount(q), 1)
    }),
  )

  it.effect(
    "callers who give up leave the line at once: the line has room again and the next caller is served",
    () =>
      Effect.gen(function* () {
        const q = yield* queue(3)
        const leavers = yield* Effect.all(
          Array.from({ length: 3 }, () => Effect.fork(WarmQueue.take(q, { wait: "10 seconds" }))),
        )
        yield* TestClock.adjust("1 millis")
        assert.strictEqual(yield* WarmQueue.waitingCount(q), 3)
        const full = yield* Effect.exit(WarmQueue.take(q, { wait: "10 seconds" }))
        assert.isTrue(Exit.isFailure(full), "a fourth caller fits no line of three")
        // All three give up (their HTTP clients went away) long before any Pod comes.
        yield* Effect.forEach(leavers, Fiber.interrupt, { discard: true })
        assert.strictEqual(yield* WarmQueue.waitingCount(q), 0)
        assert.strictEqual(q.line.size, 0, "nobody is kept in line")
        const next = yield* Effect.fork(WarmQueue.take(q, { wait: "10 seconds" }))
        yield* TestClock.adjust("1 millis")
        yield* WarmQueue.offer(q, pod("a"))
        assert.strictEqual((yield* Fiber.join(next)).name, "a")
        assert.strictEqual(yield* WarmQueue.idleCount(q), 0)
      }),
  )
})
