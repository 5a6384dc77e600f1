import type { SandboxTemplateSpec } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as PodUpdate from "../src/sandbox/PodUpdate.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"

const template = (
  image: string,
  sidecar = "envoy:1",
  extra: Record<string, unknown> = {},
): SandboxTemplateSpec => ({
  podTemplate: {
    spec: {
      containers: [
        { name: "sidecar", image: sidecar },
        { name: "sandbox", image, ...extra },
      ],
    },
  },
  containerName: "sandbox",
  runtimes: [],
})

const built = (spec: SandboxTemplateSpec, useIdleImage = false): Pod => ({
  ...PodFactory.build({
    pool: { name: "p", namespace: "ns", uid: "u" },
    template: spec,
    useIdleImage,
    name: "p-1",
  }),
  status: {
    containerStatuses: [
      { name: "sandbox", image: "x", imageID: "", containerID: "c1", ready: true, restartCount: 0 },
    ],
  },
})

describe("PodFactory revisions and shapes", () => {
  it("gives image-only changes a new revision of the same shape, and others a new shape", () => {
    const base = template("busybox:1")
    assert.notStrictEqual(PodFactory.revision(template("busybox:2")), PodFactory.revision(base))
    assert.strictEqual(PodFactory.shape(template("busybox:2", "envoy:2")), PodFactory.shape(base))
    assert.notStrictEqual(
      PodFactory.shape(template("busybox:1", "envoy:1", { env: [{ name: "A", value: "1" }] })),
      PodFactory.shape(base),
    )
    assert.strictEqual(
      PodFactory.shape({ ...base, runtimes: [{ name: "py", image: "python" }] }),
      PodFactory.shape(base),
    )
    assert.notStrictEqual(PodFactory.revision(base, true), PodFactory.revision(base, false))
  })

  it("labels a built Pod with its revision and shape, and records the sandbox container", () => {
    const pod = built(template("busybox:1"))
    assert.strictEqual(
      pod.metadata?.labels?.[SandboxPod.Label.revision],
      PodFactory.revision(template("busybox:1")),
    )
    assert.strictEqual(
      pod.metadata?.labels?.[SandboxPod.Label.shape],
      PodFactory.shape(template("busybox:1")),
    )
    assert.strictEqual(SandboxPod.read(pod)?.containerName, "sandbox")
  })

  it("puts idle Pods on the idle image when the pool asks for it; requests default to the template's", () => {
    const spec = { ...template("python:3.12"), idleImage: "pause:3" }
    const target = PodFactory.target(spec, true)
    assert.strictEqual(target.poolImage, "pause:3")
    assert.strictEqual(target.defaultImage, "python:3.12")
    assert.strictEqual(built(spec, true).spec?.containers.find((c) => c.name === "sandbox")?.image, "pause:3")
  })
})

describe("PodUpdate", () => {
  const pod = built(template("busybox:1"))

  it("relates a Pod to a revision: current, in place (images only), or recreate", () => {
    const facts = {
      revision: pod.metadata?.labels?.[SandboxPod.Label.revision],
      shape: pod.metadata?.labels?.[SandboxPod.Label.shape],
    }
    assert.strictEqual(PodUpdate.relation(facts, PodFactory.target(template("busybox:1"), false)), "Current")
    assert.strictEqual(PodUpdate.relation(facts, PodFactory.target(template("busybox:2"), false)), "InPlace")
    assert.strictEqual(
      PodUpdate.relation(facts, PodFactory.target(template("busybox:2", "envoy:1", { args: ["x"] }), false)),
      "Recreate",
    )
  })

  it("patches only the images that differ, by container name, conditional on the resourceVersion", () => {
    const withVersion = { ...pod, metadata: { ...pod.metadata, resourceVersion: "9" } }
    const target = PodFactory.target(template("busybox:2"), false)
    const patch = PodUpdate.updatePatch(withVersion, target, 0) as {
      metadata: {
        resourceVersion: string
        labels: Record<string, string>
        annotations: Record<string, string | null>
      }
      spec: { containers: Array<{ name: string; image: string }> }
    }
    assert.strictEqual(patch.metadata.resourceVersion, "9")
    assert.strictEqual(patch.metadata.labels[SandboxPod.Label.revision], target.revision)
    assert.deepStrictEqual(patch.spec.containers, [{ name: "sandbox", image: "busybox:2" }])
    assert.strictEqual(
      SandboxPod.parseRestart(patch.metadata.annotations[SandboxPod.Annotation.restart]!)?.from,
      "c1",
    )
    // A change that moves no image (a new runtime, say) is a label change: nothing restarts.
    const relabel = PodUpdate.updatePatch(
      withVersion,
      PodFactory.target({ ...template("busybox:1"), runtimes: [{ name: "py", image: "python" }] }, false),
      0,
    )
    assert.notProperty(relabel, "spec")
  })
})
