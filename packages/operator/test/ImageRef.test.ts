import { assert, describe, it } from "@effect/vitest"
import * as ImageRef from "../src/sandbox/ImageRef.ts"

describe("ImageRef", () => {
  it("normalizes repositories as Docker does", () => {
    assert.strictEqual(ImageRef.parse("busybox").repository, "docker.io/library/busybox")
    assert.strictEqual(ImageRef.parse("team/app:1").repository, "docker.io/team/app")
    assert.strictEqual(ImageRef.parse("localhost:5000/app:1").repository, "localhost:5000/app")
    assert.deepStrictEqual(ImageRef.parse("ghcr.io/o/app:2@sha256:ab"), {
      repository: "ghcr.io/o/app",
      tag: "2",
      digest: "sha256:ab",
    })
  })

  it("matches a status image in the runtime's own form to the spec's", () => {
    assert.isTrue(ImageRef.sameImage("busybox:1.36", "docker.io/library/busybox:1.36"))
    assert.isTrue(ImageRef.sameImage("busybox", "busybox:latest"))
    assert.isTrue(ImageRef.sameImage("busybox:1.36@sha256:aa", "docker.io/library/busybox@sha256:aa"))
    assert.isTrue(ImageRef.sameImage("busybox:1.36@sha256:aa", "busybox:1.36"))
    assert.isFalse(ImageRef.sameImage("busybox:1.36", "busybox:1.37"))
    assert.isFalse(ImageRef.sameImage("busybox@sha256:aa", "busybox@sha256:bb"))
    assert.isFalse(ImageRef.sameImage("python:3.12", "busybox:3.12"))
  })

  it("spells references out in full for exact comparison", () => {
    assert.strictEqual(ImageRef.canonical("busybox:1.36"), "docker.io/library/busybox:1.36")
    assert.strictEqual(ImageRef.canonical("docker.io/library/busybox:1.36"), "docker.io/library/busybox:1.36")
    assert.notStrictEqual(ImageRef.canonical("busybox:1.36@sha256:aa"), ImageRef.canonical("busybox:1.36"))
  })

  it("pins by a repository digest only", () => {
    const digest = `sha256:${"a".repeat(64)}`
    assert.strictEqual(ImageRef.repositoryDigestOf(`docker.io/library/busybox@${digest}`), digest)
    assert.isUndefined(ImageRef.repositoryDigestOf(digest))
    assert.isUndefined(ImageRef.repositoryDigestOf(undefined))
    assert.strictEqual(ImageRef.pinned("busybox:1.36", digest), `busybox:1.36@${digest}`)
    assert.isUndefined(ImageRef.pinned(`busybox@${digest}`, digest))
  })
})
