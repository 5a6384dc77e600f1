import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, TestClock } from "effect"
import * as Decision from "../src/LeaderElectionDecision.ts"

const held = (holderIdentity: string, renewTime: string, leaseTransitions = 0): Decision.LeaseRecord => ({
  holderIdentity,
  leaseDurationSeconds: 10,
  renewTime,
  acquireTime: "2020-01-01T00:00:00.000000Z",
  leaseTransitions,
})

// Observes `record` at the TestClock's current time.
const observeNow = (previous: Decision.Observation | undefined, record: Decision.LeaseRecord) =>
  Effect.map(Clock.currentTimeMillis, (now) => Decision.observe(previous, record, now))

const decideNow = (identity: string, observation: Decision.Observation | undefined) =>
  Effect.map(Clock.currentTimeMillis, (now) => Decision.decide(identity, observation, now))

describe("LeaderElectionDecision", () => {
  it.effect("creates the lease when there is none", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* decideNow("a", undefined), { _tag: "Create" })
    }),
  )

  it.effect("follows a holder until its duration passes since we observed it, then acquires", () =>
    Effect.gen(function* () {
      // The holder's renewTime is far in the past by our clock: irrelevant, only our observation counts.
      const observation = yield* observeNow(undefined, held("b", "1999-01-01T00:00:00.000000Z"))
      const first = yield* decideNow("a", observation)
      assert.strictEqual(first._tag, "Follow")
      yield* TestClock.adjust("9999 millis")
      assert.strictEqual((yield* decideNow("a", observation))._tag, "Follow")
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(yield* decideNow("a", observation), { _tag: "Acquire" })
    }),
  )

  it.effect("a renewal we observe restarts the holder's duration", () =>
    Effect.gen(function* () {
      let observation = yield* observeNow(undefined, held("b", "t1"))
      yield* TestClock.adjust("8 seconds")
      // Same record again: the first-seen time is kept.
      observation = yield* observeNow(observation, held("b", "t1"))
      assert.strictEqual(observation.observedAt, 0)
      // A new renewTime: the clock restarts now.
      observation = yield* observeNow(observation, held("b", "t2"))
      assert.strictEqual(observation.observedAt, 8000)
      yield* TestClock.adjust("8 seconds")
      const decision = yield* decideNow("a", observation)
      assert.deepStrictEqual(decision, { _tag: "Follow", holder: "b", expiresAt: 18_000 })
    }),
  )

  it.effect("a released lease (no holder) is free at once", () =>
    Effect.gen(function* () {
      const released = Decision.releasedRecord(held("b", "t1", 4), "t2")
      assert.strictEqual(released.holderIdentity, "")
      assert.strictEqual(released.leaseTransitions, 4)
      const observation = yield* observeNow(undefined, released)
      assert.deepStrictEqual(yield* decideNow("a", observation), { _tag: "Acquire" })
    }),
  )

  it.effect("we renew a lease we hold even when it looks expired", () =>
    Effect.gen(function* () {
      const observation = yield* observeNow(undefined, held("a", "t1"))
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* decideNow("a", observation), { _tag: "Renew" })
    }),
  )

  it("counts a transition only when the holder changes", () => {
    const current = held("b", "t1", 2)
    const acquired = Decision.desiredRecord({ _tag: "Acquire" }, current, "a", 15, "t2")
    assert.deepStrictEqual(acquired, {
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: "t2",
      renewTime: "t2",
      leaseTransitions: 3,
    })
    const renewed = Decision.desiredRecord({ _tag: "Renew" }, acquired, "a", 15, "t3")
    assert.deepStrictEqual(renewed, { ...acquired, renewTime: "t3" })
    const created = Decision.desiredRecord({ _tag: "Create" }, undefined, "a", 15, "t0")
    assert.strictEqual(created.leaseTransitions, 0)
  })

  it.effect("a leader lapses renewDeadline after its last successful renewal", () =>
    Effect.gen(function* () {
      const renewedAt = yield* Clock.currentTimeMillis
      yield* TestClock.adjust("3 seconds")
      let now = yield* Clock.currentTimeMillis
      assert.isFalse(Decision.renewalLapsed(renewedAt, now, 5000))
      assert.strictEqual(Decision.attemptBudget(renewedAt, now, 5000), 2000)
      yield* TestClock.adjust("2 seconds")
      now = yield* Clock.currentTimeMillis
      assert.isTrue(Decision.renewalLapsed(renewedAt, now, 5000))
      assert.strictEqual(Decision.attemptBudget(renewedAt, now, 5000), 0)
      assert.strictEqual(Decision.attemptBudget(undefined, now, 5000), 5000)
    }),
  )

  it("leaders renew on the period, candidates back off with jitter", () => {
    assert.strictEqual(Decision.nextAttemptDelay(true, 2000, 0.9), 2000)
    assert.strictEqual(Decision.nextAttemptDelay(false, 2000, 0), 2000)
    assert.strictEqual(Decision.nextAttemptDelay(false, 2000, 0.5), 3200)
  })

  it("rejects timings that would let two leaders overlap", () => {
    assert.isUndefined(
      Decision.validateTiming({ leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2000 }),
    )
    assert.isDefined(
      Decision.validateTiming({ leaseDuration: 10_000, renewDeadline: 10_000, retryPeriod: 2000 }),
    )
    assert.isDefined(
      Decision.validateTiming({ leaseDuration: 15_000, renewDeadline: 2000, retryPeriod: 2000 }),
    )
    assert.isDefined(
      Decision.validateTiming({ leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 0 }),
    )
  })
})
