import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import * as ReconcileQueue from "../src/ReconcileQueue.ts"

describe("ReconcileQueue", () => {
  it("keeps one entry per key, at the earliest time asked", () => {
    let queue = ReconcileQueue.schedule(ReconcileQueue.empty, "a", 100)
    queue = ReconcileQueue.schedule(queue, "a", 50)
    queue = ReconcileQueue.schedule(queue, "a", 200)
    assert.deepStrictEqual(ReconcileQueue.nextDue(queue), Option.some(50))
    const [early] = ReconcileQueue.takeDue(queue, 49, 10)
    assert.deepStrictEqual(early, [])
    const [due, after] = ReconcileQueue.takeDue(queue, 50, 10)
    assert.deepStrictEqual(due, ["a"])
    assert.deepStrictEqual(ReconcileQueue.nextDue(after), Option.none())
  })

  it("hands out due keys earliest first, up to the capacity", () => {
    let queue = ReconcileQueue.empty
    queue = ReconcileQueue.schedule(queue, "late", 30)
    queue = ReconcileQueue.schedule(queue, "early", 10)
    queue = ReconcileQueue.schedule(queue, "middle", 20)
    const [first, rest] = ReconcileQueue.takeDue(queue, 100, 2)
    assert.deepStrictEqual(first, ["early", "middle"])
    assert.strictEqual(ReconcileQueue.runningCount(rest), 2)
    assert.deepStrictEqual(ReconcileQueue.takeDue(rest, 100, 0)[0], [])
  })

  it("never hands out a running key; triggers meanwhile collapse into one rerun", () => {
    let queue = ReconcileQueue.schedule(ReconcileQueue.empty, "a", 0)
    const [taken, running] = ReconcileQueue.takeDue(queue, 0, 5)
    assert.deepStrictEqual(taken, ["a"])
    queue = ReconcileQueue.schedule(running, "a", 5)
    queue = ReconcileQueue.schedule(queue, "a", 7)
    assert.deepStrictEqual(ReconcileQueue.takeDue(queue, 100, 5)[0], [])
    queue = ReconcileQueue.complete(queue, "a", Option.none())
    assert.deepStrictEqual(ReconcileQueue.nextDue(queue), Option.some(5))
    const [again, done] = ReconcileQueue.takeDue(queue, 100, 5)
    assert.deepStrictEqual(again, ["a"])
    assert.deepStrictEqual(
      ReconcileQueue.nextDue(ReconcileQueue.complete(done, "a", Option.none())),
      Option.none(),
    )
  })

  it("on completion, the earlier of the rerun and the requested requeue wins", () => {
    const [, running] = ReconcileQueue.takeDue(ReconcileQueue.schedule(ReconcileQueue.empty, "a", 0), 0, 1)
    assert.deepStrictEqual(
      ReconcileQueue.nextDue(ReconcileQueue.complete(running, "a", Option.some(40))),
      Option.some(40),
    )
    const triggered = ReconcileQueue.schedule(running, "a", 10)
    assert.deepStrictEqual(
      ReconcileQueue.nextDue(ReconcileQueue.complete(triggered, "a", Option.some(40))),
      Option.some(10),
    )
  })

  it("counts consecutive failures per key and forgets them on success", () => {
    const [one, q1] = ReconcileQueue.recordFailure(ReconcileQueue.empty, "a")
    const [two, q2] = ReconcileQueue.recordFailure(q1, "a")
    const [other] = ReconcileQueue.recordFailure(q2, "b")
    assert.deepStrictEqual([one, two, other], [1, 2, 1])
    const [afterReset] = ReconcileQueue.recordFailure(ReconcileQueue.recordSuccess(q2, "a"), "a")
    assert.strictEqual(afterReset, 1)
  })
})

describe("ReconcileQueue min interval", () => {
  it("starts a key at most once per interval; triggers in between collapse into one run", () => {
    let queue = ReconcileQueue.withMinInterval(1000)
    queue = ReconcileQueue.schedule(queue, "a", 0)
    let [keys, next] = ReconcileQueue.takeDue(queue, 0, 4)
    assert.deepStrictEqual(keys, ["a"])
    queue = ReconcileQueue.complete(next, "a", Option.none())
    for (const t of [10, 20, 30]) queue = ReconcileQueue.schedule(queue, "a", t)
    ;[keys, next] = ReconcileQueue.takeDue(queue, 500, 4)
    assert.deepStrictEqual(keys, [])
    assert.deepStrictEqual(ReconcileQueue.nextDue(queue), Option.some(1000))
    ;[keys, next] = ReconcileQueue.takeDue(queue, 1000, 4)
    assert.deepStrictEqual(keys, ["a"])
  })
})
