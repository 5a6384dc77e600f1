/**
 * The bound on API-server lookups for sandboxes the cache lacks (pure parts and the single-flight):
 * a token bucket that refuses rather than queues, and one lookup in flight per id.
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as MissLookups from "../src/MissLookups.ts"
import * as TokenBucket from "../src/TokenBucket.ts"

describe("TokenBucket", () => {
  const limits = { perSecond: 2, burst: 3 }
  it("spends the burst, refuses, and refills at its rate up to the burst", () => {
    let bucket = TokenBucket.full(limits, 0)
    const takes: Array<boolean> = []
    for (let i = 0; i < 4; i++) {
      const next = TokenBucket.take(bucket, limits, 0)
      bucket = next.bucket
      takes.push(next.taken)
    }
    assert.deepStrictEqual(takes, [true, true, true, false])
    // Half a second at 2/s is one token.
    const refilled = TokenBucket.take(bucket, limits, 500)
    assert.isTrue(refilled.taken)
    assert.isFalse(TokenBucket.take(refilled.bucket, limits, 500).taken)
    // A long quiet spell gives back the burst, not more.
    const rested = TokenBucket.take(refilled.bucket, limits, 60_000)
    assert.isTrue(rested.taken)
    assert.strictEqual(rested.bucket.tokens, 2)
  })

  it("a rate of 0 allows the burst only", () => {
    const none = { perSecond: 0, burst: 0 }
    assert.isFalse(TokenBucket.take(TokenBucket.full(none, 0), none, 1_000_000).taken)
  })
})

describe("MissLookups", () => {
  it.effect("concurrent lookups of one id share one fetch", () =>
    Effect.gen(function* () {
      let fetches = 0
      const release = yield* Deferred.make<void>()
      const lookup = yield* MissLookups.make(
        { perSecond: 0, burst: 5 },
        (id: string) =>
          Effect.zipRight(
            Effect.sync(() => {
              fetches++
            }),
            Effect.as(Deferred.await(release), `found ${id}`),
          ),
        () => "",
      )
      const waiting = yield* Effect.forEach(Array.from({ length: 20 }), () => Effect.fork(lookup("a-one")), {
        concurrency: "unbounded",
      })
      yield* Deferred.succeed(release, undefined)
      const answers = yield* Effect.forEach(waiting, Fiber.join)
      assert.strictEqual(fetches, 1)
      assert.deepStrictEqual(new Set(answers), new Set(["found a-one"]))
      // Done: a later lookup of the same id asks again (nothing is cached as absent or present).
      yield* lookup("a-one")
      assert.strictEqual(fetches, 2)
    }),
  )

  it.effect("distinct ids beyond the bucket are answered not found without a fetch; failures too", () =>
    Effect.gen(function* () {
      const fetched: Array<string> = []
      const lookup = yield* MissLookups.make(
        { perSecond: 0, burst: 3 },
        (id: string) =>
          Effect.suspend(() => {
            fetched.push(id)
            return id === "a-broken" ? Effect.fail("the API server said no") : Effect.succeed(undefined)
          }),
        (error) => error,
      )
      const answers = yield* Effect.forEach(["a-1", "a-broken", "a-3", "a-4", "a-5"], lookup)
      assert.deepStrictEqual(answers, [undefined, undefined, undefined, undefined, undefined])
      assert.deepStrictEqual(fetched, ["a-1", "a-broken", "a-3"])
    }),
  )
})
