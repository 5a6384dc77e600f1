import { Sandbox } from "@agent-sandbox/domain"
import type { Sandboxes } from "@agent-sandbox/operator"
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import * as SandboxView from "../src/rest/SandboxView.ts"

const encode = Schema.encodeSync(Sandbox)

const reading: Sandboxes.SandboxPod = {
  namespace: "team-a",
  name: "python-abc12",
  uid: "7c1f",
  resourceVersion: "42",
  nodeName: "node-1",
  pool: "python",
  state: "allocated",
  ready: true,
  failed: false,
  deleting: false,
  image: "python:3.12",
  imageStatus: { _tag: "Running" },
  containerName: "sandbox",
  containerId: "containerd://1",
  revision: "r1",
  shape: undefined,
  reuses: 0,
  restarting: undefined,
  scrubPending: false,
  runtime: undefined,
  sandboxId: "abcdefghij0123456789",
  tenant: "acme",
  allocatedAt: Date.UTC(2026, 11, 3, 20, 1, 2, 345),
  expiresAt: Date.UTC(2026, 11, 3, 21, 1, 2, 345),
  metadata: { user: "ada", "team/name": "a b" },
  annotations: {},
}

const allocated = (sandbox: Sandboxes.SandboxPod): Sandboxes.AllocatedSandbox => ({ sandbox, pod: {} })

describe("SandboxView.toEncoded", () => {
  it("is the Sandbox schema's own encoding of toApi, key order included", () => {
    const variants: ReadonlyArray<Sandboxes.SandboxPod> = [
      reading,
      { ...reading, runtime: "node22", ready: false },
      { ...reading, imageStatus: { _tag: "Failing", reason: "ErrImagePull", message: "not found" } },
      { ...reading, sandboxId: undefined, tenant: undefined, allocatedAt: undefined, expiresAt: undefined },
      { ...reading, metadata: {} },
    ]
    for (const variant of variants) {
      const expected = encode(SandboxView.toApi(allocated(variant)))
      const encoded = SandboxView.toEncoded(allocated(variant))
      assert.deepStrictEqual(encoded, expected)
      assert.strictEqual(JSON.stringify(encoded), JSON.stringify(expected))
    }
  })
})
