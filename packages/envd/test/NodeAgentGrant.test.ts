import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as NodeAgentGrant from "../src/NodeAgentGrant.ts"
import * as NodeAgentLease from "../src/NodeAgentLease.ts"

const key = Buffer.alloc(32, 7)
const grant = new NodeAgentGrant.Grant({
  sandboxId: "sbx1",
  namespace: "team",
  pod: "base-abc",
  podUid: "uid-1",
  container: "sandbox",
  containerId: "c0ffee",
  envs: { A: "1" },
  expiresAt: 10_000,
})

describe("NodeAgentGrant", () => {
  it("a signed grant verifies until it expires, and names the sandbox's container", () => {
    const token = NodeAgentGrant.sign(key, grant)
    const verified = NodeAgentGrant.verify(key, token, 10_000)
    expect(Either.getOrThrow(verified)).toEqual(grant)
    expect(NodeAgentGrant.targetOf(grant)).toEqual({
      namespace: "team",
      pod: "base-abc",
      podUid: "uid-1",
      container: "sandbox",
      containerId: "c0ffee",
      envs: { A: "1" },
    })
    expect(NodeAgentGrant.verify(key, token, 10_001)).toEqual(Either.left("expired"))
  })

  it("refuses a missing, malformed, altered or foreign grant", () => {
    const token = NodeAgentGrant.sign(key, grant)
    const [payload, signature] = token.split(".") as [string, string]
    const widened = Buffer.from(JSON.stringify({ ...grant, pod: "someone-else" })).toString("base64url")
    expect(NodeAgentGrant.verify(key, undefined, 0)).toEqual(Either.left("missing"))
    expect(NodeAgentGrant.verify(key, "no-dot", 0)).toEqual(Either.left("malformed"))
    expect(NodeAgentGrant.verify(key, `${widened}.${signature}`, 0)).toEqual(Either.left("bad signature"))
    expect(NodeAgentGrant.verify(Buffer.alloc(32, 8), token, 0)).toEqual(Either.left("bad signature"))
    expect(NodeAgentGrant.verify(key, `${payload}.`, 0)).toEqual(Either.left("bad signature"))
    const notJson = Buffer.from("not json").toString("base64url")
    const signedNotJson = NodeAgentGrant.sign(key, grant).replace(payload, notJson)
    expect(NodeAgentGrant.verify(key, signedNotJson, 0)).toEqual(Either.left("bad signature"))
  })
})

describe("NodeAgentLease", () => {
  const lease = NodeAgentLease.make({
    namespace: "system",
    node: "node-1",
    address: "http://10.0.0.1:8093",
    now: Date.parse("2026-12-03T07:00:00.000Z"),
    durationSeconds: 15,
  })

  it("is named after its node and carries the address and a MicroTime renewal", () => {
    expect(lease.metadata.name).toBe("node-agent-node-1")
    expect(lease.spec.holderIdentity).toBe("node-1")
    expect(lease.spec.renewTime).toBe("2026-12-03T07:00:00.000000Z")
    expect(lease.metadata.labels[NodeAgentLease.label]).toBe("true")
  })

  it("gives the address while the lease is live, nothing once it lapsed", () => {
    const renewed = Date.parse("2026-12-03T07:00:00.000Z")
    expect(NodeAgentLease.liveAddress(lease, renewed + 15_000)).toBe("http://10.0.0.1:8093")
    expect(NodeAgentLease.liveAddress(lease, renewed + 15_001)).toBeUndefined()
    expect(NodeAgentLease.liveAddress({ ...lease, metadata: { name: "x" } }, renewed)).toBeUndefined()
  })
})
