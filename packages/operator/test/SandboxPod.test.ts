import { assert, describe, it } from "@effect/vitest"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"

const pod = (
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
  ready = true,
): Pod => ({
  metadata: { name: "p", namespace: "ns", resourceVersion: "7", labels, annotations },
  spec: { containers: [{ name: "main", image: "img:1" }] },
  status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
})

describe("SandboxPod", () => {
  it("ignores Pods the operator does not manage", () => {
    assert.isUndefined(SandboxPod.read(pod({ app: "x" })))
    assert.isUndefined(
      SandboxPod.read(pod({ [SandboxPod.Label.pool]: "p", [SandboxPod.Label.state]: "weird" })),
    )
  })

  it("reads an idle Pod as claimable only when Ready", () => {
    const idle = SandboxPod.read(pod({ [SandboxPod.Label.pool]: "pool", [SandboxPod.Label.state]: "idle" }))!
    assert.isTrue(SandboxPod.isClaimable(idle))
    assert.strictEqual(idle.image, "img:1")
    const starting = SandboxPod.read(
      pod({ [SandboxPod.Label.pool]: "pool", [SandboxPod.Label.state]: "idle" }, {}, false),
    )!
    assert.isFalse(SandboxPod.isClaimable(starting))
  })

  it("round-trips a claim through the patch it writes", () => {
    const patch = SandboxPod.claimPatch({
      resourceVersion: "7",
      sandboxId: "sbx-1",
      tenant: "team-a",
      now: Date.parse("2026-01-01T00:00:00Z"),
      timeoutSeconds: 60,
      metadata: { run: "42" },
    }) as {
      metadata: {
        resourceVersion: string
        labels: Record<string, string>
        annotations: Record<string, string>
      }
    }
    assert.strictEqual(patch.metadata.resourceVersion, "7")
    const claimed = SandboxPod.read(
      pod({ [SandboxPod.Label.pool]: "pool", ...patch.metadata.labels }, patch.metadata.annotations),
    )!
    assert.strictEqual(claimed.state, "allocated")
    assert.strictEqual(claimed.sandboxId, "sbx-1")
    assert.strictEqual(claimed.tenant, "team-a")
    assert.strictEqual(claimed.expiresAt, Date.parse("2026-01-01T00:01:00Z"))
    assert.deepStrictEqual(claimed.metadata, { run: "42" })
    assert.isFalse(SandboxPod.isClaimable(claimed))
  })

  it("tolerates a hand-edited metadata annotation", () => {
    const p = SandboxPod.read(
      pod(
        { [SandboxPod.Label.pool]: "p", [SandboxPod.Label.state]: "allocated" },
        { [SandboxPod.Annotation.metadata]: "{" },
      ),
    )!
    assert.deepStrictEqual(p.metadata, {})
  })
})
