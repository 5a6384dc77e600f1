import { NodeAgentGrant } from "@agent-sandbox/envd"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import type { ResolvedTarget } from "../src/e2b/SandboxResolver.ts"
import * as SignedGrants from "../src/e2b/SignedGrants.ts"

const key = new Uint8Array(32).fill(7)
const target = (): ResolvedTarget => ({
  namespace: "ns",
  pod: "pod-1",
  container: "sandbox",
  sandboxId: "sbx-1",
  node: "node-1",
  podUid: "uid-1",
  envs: { A: "1" },
})

describe("SignedGrants.reusable", () => {
  const signed = { containerId: "c1", expiresAt: 61_000, header: "h" }

  it("a grant goes again with requests for its container while half its life is left", () => {
    expect(SignedGrants.reusable(signed, "c1", 1_000, 60_000)).toBe(true)
    expect(SignedGrants.reusable(signed, "c1", 31_000, 60_000)).toBe(true)
    expect(SignedGrants.reusable(signed, "c1", 31_001, 60_000)).toBe(false)
  })

  it("not for another container, a clock gone back, or nothing signed yet", () => {
    expect(SignedGrants.reusable(signed, "c2", 2_000, 60_000)).toBe(false)
    expect(SignedGrants.reusable(signed, "c1", 999, 60_000)).toBe(false)
    expect(SignedGrants.reusable(undefined, "c1", 2_000, 60_000)).toBe(false)
  })
})

describe("SignedGrants.make", () => {
  it("signs a grant the agent accepts, naming the target and container, and reuses it in its first half", () => {
    const headerFor = SignedGrants.make(key, 60_000)
    const one = target()
    const first = headerFor(one, "c1", 1_000)
    const verified = NodeAgentGrant.verify(key, first, 1_000)
    expect(Either.isRight(verified) && verified.right).toMatchObject({
      sandboxId: "sbx-1",
      podUid: "uid-1",
      containerId: "c1",
      envs: { A: "1" },
      expiresAt: 61_000,
    })
    expect(headerFor(one, "c1", 31_000)).toBe(first)
    const later = headerFor(one, "c1", 31_001)
    expect(later).not.toBe(first)
    expect(Either.isRight(NodeAgentGrant.verify(key, later, 91_000))).toBe(true)
  })

  it("signs afresh for another container or another target object (a changed Pod)", () => {
    const headerFor = SignedGrants.make(key, 60_000)
    const one = target()
    const first = headerFor(one, "c1", 1_000)
    const otherContainer = NodeAgentGrant.verify(key, headerFor(one, "c2", 1_000), 1_000)
    expect(Either.isRight(otherContainer) && otherContainer.right.containerId).toBe("c2")
    const changed = { ...target(), envs: { A: "2" } }
    const fresh = NodeAgentGrant.verify(key, headerFor(changed, "c1", 1_000), 1_000)
    expect(Either.isRight(fresh) && fresh.right.envs).toEqual({ A: "2" })
    expect(headerFor(changed, "c1", 1_000)).not.toBe(first)
  })
})
