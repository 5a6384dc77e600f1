import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import * as NodeAgentGrant from "../src/NodeAgentGrant.ts"
import * as PodScrubGrant from "../src/PodScrubGrant.ts"

const key = Buffer.alloc(32, 7)
const grant = new PodScrubGrant.ScrubGrant({
  purpose: "scrub-pod-state",
  namespace: "team",
  pod: "base-abc",
  podUid: "uid-1",
  container: "sandbox",
  containerId: "c0ffee",
  expiresAt: 10_000,
})

describe("PodScrubGrant", () => {
  it("a signed scrub grant verifies until it expires", () => {
    const token = PodScrubGrant.sign(key, grant)
    assert.deepStrictEqual(Either.getOrThrow(PodScrubGrant.verify(key, token, 10_000)), grant)
    assert.deepStrictEqual(PodScrubGrant.verify(key, token, 10_001), Either.left("expired"))
    assert.deepStrictEqual(PodScrubGrant.verify(key, undefined, 0), Either.left("missing"))
    assert.deepStrictEqual(PodScrubGrant.verify(Buffer.alloc(32, 8), token, 0), Either.left("bad signature"))
    const [payload, mac] = token.split(".")
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), pod: "other" }),
    ).toString("base64url")
    assert.deepStrictEqual(PodScrubGrant.verify(key, `${widened}.${mac}`, 0), Either.left("bad signature"))
  })

  it("an envd grant is no scrub grant, and a scrub grant no envd grant, under the same key", () => {
    const envd = NodeAgentGrant.sign(
      key,
      new NodeAgentGrant.Grant({
        sandboxId: "sbx1",
        namespace: "team",
        pod: "base-abc",
        podUid: "uid-1",
        container: "sandbox",
        containerId: "c0ffee",
        envs: {},
        expiresAt: 10_000,
      }),
    )
    assert.deepStrictEqual(PodScrubGrant.verify(key, envd, 0), Either.left("malformed"))
    assert.deepStrictEqual(
      NodeAgentGrant.verify(key, PodScrubGrant.sign(key, grant), 0),
      Either.left("malformed"),
    )
  })
})
