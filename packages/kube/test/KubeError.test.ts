import { assert, describe, it } from "@effect/vitest"
import { fromStatus, fromUnknown, hasReason } from "../src/KubeError.ts"

describe("KubeError", () => {
  it("maps statuses and Status bodies to reasons", () => {
    const status = (code: number, reason?: string) =>
      fromStatus("op", code, JSON.stringify({ kind: "Status", code, reason, message: "m" })).reason
    assert.deepStrictEqual(
      [
        status(404),
        status(409, "Conflict"),
        status(409, "AlreadyExists"),
        status(410, "Expired"),
        status(422),
      ],
      ["NotFound", "Conflict", "AlreadyExists", "Gone", "Invalid"],
    )
    assert.strictEqual(fromUnknown("op")(new Error("socket hang up")).reason, "Transport")
  })

  it("hasReason selects errors by reason", () => {
    const conflict = fromStatus("op", 409, "")
    assert.isTrue(hasReason("Conflict", "NotFound")(conflict))
    assert.isFalse(hasReason("NotFound")(conflict))
    assert.isFalse(hasReason("Conflict")(new Error("x")))
  })
})
