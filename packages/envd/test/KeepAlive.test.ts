import { assert, describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Fiber, Stream, TestClock } from "effect"
import { intervalFromHeader, withKeepAlive } from "../src/KeepAlive.ts"

describe("KeepAlive", () => {
  it("reads the interval header in seconds, defaulting to envd's 90", () => {
    expect(Duration.toSeconds(intervalFromHeader("50"))).toBe(50)
    expect(Duration.toSeconds(intervalFromHeader(null))).toBe(90)
    expect(Duration.toSeconds(intervalFromHeader("-3"))).toBe(90)
    expect(Duration.toSeconds(intervalFromHeader("abc"))).toBe(90)
  })

  it.effect("interleaves keepalives while the events are quiet and ends with them", () =>
    Effect.gen(function* () {
      const events = Stream.make("a").pipe(
        Stream.concat(Stream.fromEffect(Effect.as(Effect.sleep("25 seconds"), "b"))),
      )
      const fiber = yield* Effect.fork(Stream.runCollect(withKeepAlive(events, "ka", Duration.seconds(10))))
      yield* TestClock.adjust("30 seconds")
      const collected = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      assert.deepStrictEqual(collected, ["a", "ka", "ka", "b"])
    }),
  )
})
