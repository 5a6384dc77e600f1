import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Fiber, Stream, TestClock } from "effect"
import * as Backoff from "../src/Backoff.ts"

const noJitter: Backoff.BackoffPolicy = { ...Backoff.defaultPolicy, jitter: 0 }

describe("Backoff", () => {
  it("doubles from the initial delay up to the maximum", () => {
    const delays = [0, 1, 2, 3, 5, 10].map((n) => Duration.toMillis(Backoff.delay(noJitter, n, 0.5)))
    assert.deepStrictEqual(delays, [800, 1600, 3200, 6400, 25_600, 30_000])
  })

  it("spreads delays by the jitter, never past the maximum", () => {
    assert.strictEqual(Duration.toMillis(Backoff.delay(Backoff.defaultPolicy, 0, 0)), 400)
    assert.strictEqual(Duration.toMillis(Backoff.delay(Backoff.defaultPolicy, 0, 0.999999)), 1200)
    assert.strictEqual(Duration.toMillis(Backoff.delay(Backoff.defaultPolicy, 20, 0.999999)), 30_000)
  })

  it.effect("waits after each error, longer each time, and starts over after a success", () =>
    Effect.gen(function* () {
      const items = [
        Either.left("e1"),
        Either.left("e2"),
        Either.right(1),
        Either.left("e3"),
        Either.right(2),
      ]
      const fiber = yield* Stream.fromIterable(items).pipe(
        Backoff.withBackoff(noJitter),
        Stream.runCollect,
        Effect.fork,
      )
      // 800 (after e1) + 1600 (after e2) + 800 (after e3: reset by the success) = 3200 ms.
      yield* TestClock.adjust("3199 millis")
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None")
      yield* TestClock.adjust("1 millis")
      const collected = yield* Fiber.join(fiber)
      assert.deepStrictEqual(Chunk.toReadonlyArray(collected), items)
    }),
  )
})
