import type { SandboxTemplateSpec } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import { Either, Option } from "effect"
import * as ImagePolicy from "../src/sandbox/ImagePolicy.ts"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as PoolTemplate from "../src/sandbox/PoolTemplate.ts"

const spec: SandboxTemplateSpec = {
  podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox:1.36" }] } },
  idleImage: "pause:3.10",
  runtimes: [{ name: "python", image: "python:3.12", env: [{ name: "A", value: "1" }] }],
  allowedImages: ["node"],
}
const template = Option.some({ name: "t", spec })

describe("PoolTemplate.wanted", () => {
  it("resolves a runtime by name, with its env for the data plane", () => {
    assert.deepStrictEqual(
      PoolTemplate.wanted(template, { runtime: "python" }),
      Either.right({ image: "python:3.12", runtime: { name: "python", env: { A: "1" } } }),
    )
  })

  it("takes an allowed image as named, and the template's own image (not the idle image) by default", () => {
    assert.deepStrictEqual(
      PoolTemplate.wanted(template, { image: "node:22" }),
      Either.right({ image: "node:22", runtime: undefined }),
    )
    assert.deepStrictEqual(
      PoolTemplate.wanted(template, {}),
      Either.right({ image: "busybox:1.36", runtime: undefined }),
    )
  })

  it("refuses an unknown runtime, both at once, or a choice without a template", () => {
    const refused = (result: ReturnType<typeof PoolTemplate.wanted>) => result._tag === "Left"
    assert.isTrue(refused(PoolTemplate.wanted(template, { runtime: "ruby" })))
    assert.isTrue(refused(PoolTemplate.wanted(template, { runtime: "python", image: "x" })))
    assert.isTrue(refused(PoolTemplate.wanted(Option.none(), { image: "x" })))
    assert.deepStrictEqual(PoolTemplate.wanted(Option.none(), {}), Either.right(undefined))
  })
})

describe("PoolTemplate.wanted: allowed images", () => {
  const failure = (result: ReturnType<typeof PoolTemplate.wanted>) =>
    result._tag === "Left" ? result.left : undefined

  it("refuses an image the template does not allow with ImageNotAllowed, naming the image", () => {
    const error = failure(PoolTemplate.wanted(template, { image: "attacker/miner:1" }))
    assert.strictEqual(error?._tag, "ImageNotAllowed")
    assert.include(error?.message, "attacker/miner:1")
    // 'node' allows node's tags and digests, not another repository that starts with the same letters.
    assert.strictEqual(
      failure(PoolTemplate.wanted(template, { image: "node-evil:1" }))?._tag,
      "ImageNotAllowed",
    )
    assert.isUndefined(failure(PoolTemplate.wanted(template, { image: "node@sha256:abc" })))
  })

  it("always allows the template's own images, its idle image and its runtimes'", () => {
    const { allowedImages: _none, ...closedSpec } = spec
    const closed = Option.some({ name: "t", spec: closedSpec })
    for (const image of ["busybox:1.36", "pause:3.10", "python:3.12"]) {
      assert.isUndefined(failure(PoolTemplate.wanted(closed, { image })), image)
    }
    assert.strictEqual(failure(PoolTemplate.wanted(closed, { image: "node:22" }))?._tag, "ImageNotAllowed")
  })
})

describe("ImagePolicy.entryAllows", () => {
  it("reads prefixes, digests and repositories", () => {
    assert.isTrue(ImagePolicy.entryAllows("ghcr.io/acme/", "ghcr.io/acme/agent:2"))
    assert.isFalse(ImagePolicy.entryAllows("ghcr.io/acme/", "ghcr.io/acme-evil/agent:2"))
    assert.isTrue(ImagePolicy.entryAllows("python:3.12", "python:3.12"))
    assert.isTrue(ImagePolicy.entryAllows("python:", "python:3.13"))
    assert.isFalse(ImagePolicy.entryAllows("python:3.12", "python:3.12-evil"))
    assert.isTrue(ImagePolicy.entryAllows("sha256:0a1b", "any/repo@sha256:0a1b"))
    assert.isFalse(ImagePolicy.entryAllows("sha256:0a1b", "any/repo:sha256:0a1b"))
  })
})

describe("PodFactory.revision", () => {
  it("leaves allowedImages out: a policy change does not roll Pods", () => {
    const { allowedImages: _none, ...withoutPolicy } = spec
    assert.strictEqual(
      PodFactory.revision({ ...spec, allowedImages: ["ghcr.io/acme/"] }),
      PodFactory.revision(withoutPolicy),
    )
  })
})
