import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Queue, Ref, Stream, TestClock } from "effect"
import * as Action from "../src/Action.ts"
import * as Controller from "../src/Controller.ts"
import * as ObjectRef from "../src/ObjectRef.ts"

/** Lets forked fibers run until `check` holds (no real time passes under TestClock). */
const settle = (check: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1000; i++) {
      if (yield* check) return
      yield* Effect.yieldNow()
    }
    assert.fail("condition never held")
  })

/** Lets forked fibers run for a while, for asserting that something did NOT happen. */
const idle = Effect.repeatN(Effect.yieldNow(), 200)

interface Harness {
  readonly trigger: (name: string) => Effect.Effect<void>
  /** Names reconciled so far, in order of start. */
  readonly started: Effect.Effect<ReadonlyArray<string>>
  readonly count: (name: string) => Effect.Effect<number>
}

const harness = <E>(
  reconcile: (name: string, attempt: number) => Effect.Effect<Action.Action, E>,
  options: { readonly concurrency?: number; readonly errorPolicy?: Controller.ErrorPolicy<E> } = {},
) =>
  Effect.gen(function* () {
    const triggers = yield* Queue.unbounded<ObjectRef.ObjectRef>()
    const started = yield* Ref.make<ReadonlyArray<string>>([])
    yield* Effect.forkScoped(
      Controller.run({
        triggers: Stream.fromQueue(triggers),
        reconcile: (ref) =>
          Effect.flatMap(
            Ref.updateAndGet(started, (names) => [...names, ref.name]),
            (names) => reconcile(ref.name, names.filter((n) => n === ref.name).length),
          ),
        concurrency: options.concurrency,
        errorPolicy: options.errorPolicy,
      }),
    )
    const count = (name: string) =>
      Effect.map(Ref.get(started), (names) => names.filter((n) => n === name).length)
    const result: Harness = {
      trigger: (name) => Queue.offer(triggers, ObjectRef.make(name, "ns")),
      started: Ref.get(started),
      count,
    }
    return result
  })

describe("Controller.run", () => {
  it.scoped("runs a key once however many times it was triggered while waiting", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const h = yield* harness(
        (name) =>
          (name === "blocker" ? Deferred.await(gate) : Effect.void).pipe(Effect.as(Action.awaitChange)),
        {
          concurrency: 1,
        },
      )
      yield* h.trigger("blocker")
      yield* settle(Effect.map(h.count("blocker"), (n) => n === 1))
      // The only slot is busy: these wait in the scheduler and collapse into one.
      for (let i = 0; i < 5; i++) yield* h.trigger("a")
      yield* idle
      yield* Deferred.succeed(gate, undefined)
      yield* settle(Effect.map(h.count("a"), (n) => n === 1))
      yield* idle
      assert.deepStrictEqual(yield* h.started, ["blocker", "a"])
    }),
  )

  it.scoped("never runs the same key twice at once; triggers while running give exactly one rerun", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const active = yield* Ref.make(0)
      const maxActive = yield* Ref.make(0)
      const h = yield* harness(
        (_name, attempt) =>
          Effect.gen(function* () {
            const now = yield* Ref.updateAndGet(active, (n) => n + 1)
            yield* Ref.update(maxActive, (m) => Math.max(m, now))
            if (attempt === 1) yield* Deferred.await(gate)
            yield* Ref.update(active, (n) => n - 1)
            return Action.awaitChange
          }),
        { concurrency: 8 },
      )
      yield* h.trigger("a")
      yield* settle(Effect.map(h.count("a"), (n) => n === 1))
      for (let i = 0; i < 3; i++) yield* h.trigger("a")
      yield* idle
      assert.strictEqual(yield* h.count("a"), 1)
      yield* Deferred.succeed(gate, undefined)
      yield* settle(Effect.map(h.count("a"), (n) => n === 2))
      yield* idle
      assert.strictEqual(yield* h.count("a"), 2)
      assert.strictEqual(yield* Ref.get(maxActive), 1)
    }),
  )

  it.scoped("runs different keys concurrently up to the bound", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const h = yield* harness(() => Effect.as(Deferred.await(gate), Action.awaitChange), { concurrency: 2 })
      for (const name of ["a", "b", "c"]) yield* h.trigger(name)
      yield* settle(Effect.map(h.started, (names) => names.length === 2))
      yield* idle
      assert.strictEqual((yield* h.started).length, 2)
      yield* Deferred.succeed(gate, undefined)
      yield* settle(Effect.map(h.started, (names) => names.length === 3))
    }),
  )

  it.scoped("requeues after the requested delay", () =>
    Effect.gen(function* () {
      const h = yield* harness((_name, attempt) =>
        Effect.succeed(attempt === 1 ? Action.requeue("10 seconds") : Action.awaitChange),
      )
      yield* h.trigger("a")
      yield* settle(Effect.map(h.count("a"), (n) => n === 1))
      yield* TestClock.adjust("9999 millis")
      yield* idle
      assert.strictEqual(yield* h.count("a"), 1)
      yield* TestClock.adjust("1 millis")
      yield* settle(Effect.map(h.count("a"), (n) => n === 2))
      yield* TestClock.adjust("1 hour")
      yield* idle
      assert.strictEqual(yield* h.count("a"), 2)
    }),
  )

  it.scoped("retries failures per key with exponential backoff, reset by a success", () =>
    Effect.gen(function* () {
      // Fails on attempts 1-3, succeeds on 4 (requeue 1 min), fails again on 5.
      const h = yield* harness(
        (_name, attempt) =>
          attempt <= 3 || attempt === 5
            ? Effect.fail("boom" as const)
            : Effect.succeed(Action.requeue("1 minute")),
        { errorPolicy: Controller.retryWithBackoff({ base: "1 second", max: "1 minute" }) },
      )
      const expectRunsAfter = (millis: number, runs: number) =>
        Effect.gen(function* () {
          yield* TestClock.adjust(millis - 1)
          yield* idle
          assert.strictEqual(yield* h.count("a"), runs - 1)
          yield* TestClock.adjust(1)
          yield* settle(Effect.map(h.count("a"), (n) => n === runs))
        })
      yield* h.trigger("a")
      yield* settle(Effect.map(h.count("a"), (n) => n === 1))
      yield* expectRunsAfter(1000, 2) // after failure 1
      yield* expectRunsAfter(2000, 3) // after failure 2
      yield* expectRunsAfter(4000, 4) // after failure 3; this one succeeds and requeues
      yield* expectRunsAfter(60_000, 5) // the requeue; fails again
      yield* expectRunsAfter(1000, 6) // backoff started over
    }),
  )

  it.scoped("keeps failure counts apart per key", () =>
    Effect.gen(function* () {
      const h = yield* harness(
        (name, attempt) =>
          name === "bad" || attempt === 1 ? Effect.fail("x") : Effect.succeed(Action.awaitChange),
        {
          errorPolicy: Controller.retryWithBackoff({ base: "1 second" }),
        },
      )
      yield* h.trigger("bad")
      yield* settle(Effect.map(h.count("bad"), (n) => n === 1))
      yield* TestClock.adjust("1 second")
      yield* settle(Effect.map(h.count("bad"), (n) => n === 2))
      yield* TestClock.adjust("2 seconds")
      yield* settle(Effect.map(h.count("bad"), (n) => n === 3))
      // A fresh key starts at the base delay, whatever "bad" has accumulated.
      yield* h.trigger("good")
      yield* settle(Effect.map(h.count("good"), (n) => n === 1))
      yield* TestClock.adjust("1 second")
      yield* settle(Effect.map(h.count("good"), (n) => n === 2))
    }),
  )
})
