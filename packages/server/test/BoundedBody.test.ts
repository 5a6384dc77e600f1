import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"
import * as BoundedBody from "../src/http/BoundedBody.ts"

describe("BoundedBody.once", () => {
  it.effect("runs the read for its first reader only; concurrent and later readers get its result", () =>
    Effect.gen(function* () {
      let runs = 0
      const gate = yield* Deferred.make<void>()
      const body = BoundedBody.once(
        Effect.zipRight(
          Deferred.await(gate),
          Effect.sync(() => ++runs),
        ),
      )
      const first = yield* Effect.fork(body)
      const second = yield* Effect.fork(body)
      yield* Effect.yieldNow()
      yield* Deferred.succeed(gate, undefined)
      assert.deepStrictEqual([yield* Fiber.join(first), yield* Fiber.join(second), yield* body], [1, 1, 1])
      assert.strictEqual(runs, 1)
    }),
  )

  it.effect("a failed read fails every reader the same way, without reading again", () =>
    Effect.gen(function* () {
      let runs = 0
      const body = BoundedBody.once(Effect.suspend(() => Effect.fail(`over the limit (${++runs})`)))
      assert.deepStrictEqual(yield* Effect.exit(body), Exit.fail("over the limit (1)"))
      assert.deepStrictEqual(yield* Effect.exit(body), Exit.fail("over the limit (1)"))
      assert.strictEqual(runs, 1)
    }),
  )

  it.effect("readers waiting on a first reader that is interrupted do not hang", () =>
    Effect.gen(function* () {
      const body = BoundedBody.once(Effect.never)
      const first = yield* Effect.fork(body)
      yield* Effect.yieldNow()
      const second = yield* Effect.fork(body)
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(first)
      const waited = yield* Fiber.await(second)
      assert.isTrue(Exit.isInterrupted(waited))
    }),
  )
})
