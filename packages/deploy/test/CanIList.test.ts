import { assert, describe, it } from "@effect/vitest"
import { linesOf } from "./CanIList.ts"

// What kubectl 1.32 printed for the chart's ServiceAccount (trimmed), and the lines it means.
const printed = `Resources                                       Non-Resource URLs   Resource Names                  Verbs
pods                                            []                  []                              [create delete get list patch watch]
networkpolicies.networking.k8s.io               []                  []                              [create delete patch]
pods/exec                                       []                  []                              [create get]
leases.coordination.k8s.io                      []                  [agent-sandbox-operator]        [get update]
secrets                                         []                  [agent-sandbox-e2b-token-key]   [get]
sandboxpools.sandbox.agent-sandbox.dev/status   []                  []                              [patch]
                                                [/api/*]            []                              [get]
                                                [/version]          []                              [get]
`

describe("CanIList.linesOf", () => {
  it("reads resources, groups, subresources, names and verbs, and leaves out non-resource URLs", () => {
    assert.deepStrictEqual(linesOf(printed), [
      "create core/pods",
      "create core/pods/exec",
      "create networking.k8s.io/networkpolicies",
      "delete core/pods",
      "delete networking.k8s.io/networkpolicies",
      "get coordination.k8s.io/leases/agent-sandbox-operator",
      "get core/pods",
      "get core/pods/exec",
      "get core/secrets/agent-sandbox-e2b-token-key",
      "list core/pods",
      "patch core/pods",
      "patch networking.k8s.io/networkpolicies",
      "patch sandbox.agent-sandbox.dev/sandboxpools/status",
      "update coordination.k8s.io/leases/agent-sandbox-operator",
      "watch core/pods",
    ])
  })

  it("a row with several names is one line per name and verb", () => {
    assert.deepStrictEqual(linesOf("secrets   []   [a b]   [get]\n"), [
      "get core/secrets/a",
      "get core/secrets/b",
    ])
  })
})
