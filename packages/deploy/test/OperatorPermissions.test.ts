import { assert, describe, it } from "@effect/vitest"
import { OperatorPermissions } from "../src/index.ts"

const { linesOf, rulesWithout } = OperatorPermissions

const rules: ReadonlyArray<OperatorPermissions.ResourceRule> = [
  { apiGroups: [""], resources: ["pods", "pods/exec"], verbs: ["get", "create"] },
  { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["a", "b"] },
  { apiGroups: [""], resources: ["secrets"], verbs: ["list"] },
]

describe("OperatorPermissions.rulesWithout", () => {
  it("leaves out exactly one permission and keeps everything else", () => {
    const without = rulesWithout(rules, {
      scope: "watched",
      group: "",
      resource: "pods/exec",
      verb: "create",
    })
    assert.deepStrictEqual(
      linesOf(without),
      linesOf(rules).filter((line) => line !== "create core/pods/exec"),
    )
  })

  it("removes one name of a named rule, not the others nor the unnamed rule", () => {
    const without = rulesWithout(rules, {
      scope: "system",
      group: "",
      resource: "secrets",
      verb: "get",
      name: "a",
    })
    assert.deepStrictEqual(
      linesOf(without),
      linesOf(rules).filter((line) => line !== "get core/secrets/a"),
    )
  })

  it("an unnamed permission is not taken from a rule limited to names", () => {
    const without = rulesWithout(rules, { scope: "system", group: "", resource: "secrets", verb: "get" })
    assert.deepStrictEqual(linesOf(without), linesOf(rules))
  })

  it("removing each of the operator's permissions from the lines of all of them leaves the others", () => {
    const all = OperatorPermissions.operatorPermissions.map((p) => ({
      apiGroups: [p.group],
      resources: [p.resource],
      verbs: [p.verb],
      ...(p.name === undefined ? {} : { resourceNames: [p.name] }),
    }))
    for (const p of OperatorPermissions.operatorPermissions)
      assert.deepStrictEqual(
        linesOf(rulesWithout(all, p)),
        linesOf(all).filter((line) => line !== OperatorPermissions.line(p)),
      )
  })
})
