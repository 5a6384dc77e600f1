import { assert, describe, it } from "@effect/vitest"
import * as CreateExpectations from "../src/pool/CreateExpectations.ts"

describe("CreateExpectations", () => {
  it("counts creates until the watch shows them, whenever that is", () => {
    const e = CreateExpectations.make()
    CreateExpectations.expect(e, "ns/p", "a", 0)
    CreateExpectations.expect(e, "ns/p", "b", 0)
    CreateExpectations.expect(e, "ns/q", "c", 0)
    assert.strictEqual(CreateExpectations.pending(e, "ns/p", 1), 2)
    // Seen (even only as it was deleted) between two reconciles: no longer on its way.
    CreateExpectations.lower(e, "ns/p", "a")
    assert.strictEqual(CreateExpectations.pending(e, "ns/p", 2), 1)
    assert.strictEqual(CreateExpectations.pending(e, "ns/q", 2), 1)
    CreateExpectations.forget(e, "ns/q")
    assert.strictEqual(CreateExpectations.pending(e, "ns/q", 2), 0)
  })

  it("lets a create the watch never confirms lapse", () => {
    const e = CreateExpectations.make()
    CreateExpectations.expect(e, "ns/p", "a", 0)
    assert.strictEqual(CreateExpectations.pending(e, "ns/p", 1_000, 5_000), 1)
    assert.strictEqual(CreateExpectations.pending(e, "ns/p", 6_000, 5_000), 0)
    assert.strictEqual(e.byPool.size, 0)
  })
})
