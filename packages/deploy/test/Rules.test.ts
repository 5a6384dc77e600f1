import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { runProgram } from "../src/Program.ts"
import { promtoolPath } from "../src/Promtool.ts"

// The chart's recording and alert rules, by Debian's promtool: valid, and firing when they should.
const rulesFile = join(import.meta.dirname, "../../../chart/files/rules.yaml")

describe("Prometheus rules", () => {
  it.effect("pass promtool check rules and promtool test rules", () =>
    Effect.gen(function* () {
      const promtool = yield* promtoolPath
      const checked = yield* runProgram(promtool, ["check", "rules", rulesFile])
      assert.strictEqual(checked.code, 0, checked.stdout + checked.stderr)
      const tested = yield* runProgram(promtool, [
        "test",
        "rules",
        join(import.meta.dirname, "rules.test.yaml"),
      ])
      assert.strictEqual(tested.code, 0, tested.stdout + tested.stderr)
    }),
  )
})
