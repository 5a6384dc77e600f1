import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as InFlightRequests from "../src/InFlightRequests.ts"

/** A request that ends only when its signal aborts (as undici's does). */
const untilAborted = (signal: AbortSignal) =>
  new Promise<string>((_, reject) => {
    signal.addEventListener("abort", () => setTimeout(() => reject(signal.reason), 10), { once: true })
  })

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (value) => `resolved ${String(value)}`,
    (error: unknown) => `rejected ${error instanceof Error ? error.name : String(error)}`,
  )

describe("InFlightRequests", () => {
  it.effect("closing aborts what is in flight and resolves only once it has settled", () =>
    Effect.promise(async () => {
      const inFlight = InFlightRequests.make()
      const request = outcome(inFlight.start(untilAborted).promise)
      const held = inFlight.open()
      let settled = false
      const closed = inFlight.close().then(() => {
        settled = true
      })
      assert.isTrue(inFlight.closing())
      assert.isTrue(held.signal.aborted)
      assert.isFalse(settled)
      await closed
      assert.strictEqual(await request, "rejected TransportClosingError")
    }),
  )

  it.effect("the caller's own abort reaches the request; a finished request is let go", () =>
    Effect.promise(async () => {
      const inFlight = InFlightRequests.make()
      const started = inFlight.start(untilAborted)
      const request = outcome(started.promise)
      started.abort(new Error("interrupted"))
      assert.strictEqual(await request, "rejected Error")
      assert.strictEqual(await outcome(inFlight.start(async () => "late").promise), "resolved late")
      // Nothing left to wait for: closing resolves at once.
      await inFlight.close()
    }),
  )

  it.effect("after closing, nothing starts", () =>
    Effect.promise(async () => {
      const inFlight = InFlightRequests.make()
      await inFlight.close()
      let started = false
      const request = inFlight.start(async () => {
        started = true
        return "sent"
      }).promise
      assert.strictEqual(await outcome(request), "rejected TransportClosingError")
      assert.isFalse(started)
      assert.isTrue(inFlight.open().signal.aborted)
    }),
  )
})
