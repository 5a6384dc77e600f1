import { SandboxIdFormat } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import * as SandboxId from "../src/sandbox/SandboxId.ts"

describe("SandboxId", () => {
  it("mints 20 lowercase letters and digits, each id new, every character in use", () => {
    const ids = Array.from({ length: 2000 }, () => SandboxId.mint())
    for (const id of ids) assert.match(id, /^[a-z0-9]{20}$/)
    assert.strictEqual(new Set(ids).size, ids.length)
    // 40,000 characters drawn from 36: a character never drawn would mean the draw skips it.
    assert.strictEqual(new Set(ids.join("")).size, 36)
  })

  it("puts the cluster's tag in front, and every minted id is recognised as one", () => {
    const tag = "eu1" as SandboxIdFormat.ClusterTag
    const id = SandboxId.mint(tag)
    assert.match(id, /^eu1-[a-z0-9]{20}$/)
    assert.strictEqual(SandboxIdFormat.clusterOf(id), tag)
    assert.isTrue(SandboxId.isMinted(id))
    assert.isTrue(SandboxId.isMinted(SandboxId.mint()))
  })

  it("mintUnused draws again while the id is taken", () => {
    let asked = 0
    const id = SandboxId.mintUnused(() => ++asked < 3)
    assert.strictEqual(asked, 3)
    assert.isTrue(SandboxId.isMinted(id))
  })
})
