import { assert, describe, it } from "@effect/vitest"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as PodOwner from "../src/sandbox/PodOwner.ts"
import * as SandboxId from "../src/sandbox/SandboxId.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"

const pool = { name: "p", uid: "11111111-1111-1111-1111-111111111111" }
const built: Pod = PodFactory.build({
  pool: { ...pool, namespace: "ns" },
  template: { podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox" }] } }, runtimes: [] },
  useIdleImage: false,
  name: "p-1",
})
const withOwners = (ownerReferences: NonNullable<NonNullable<Pod["metadata"]>["ownerReferences"]>): Pod => ({
  ...built,
  metadata: { ...built.metadata, ownerReferences },
})

describe("PodOwner", () => {
  it("a Pod is the pool's only when its controller ownerReference is that pool by uid", () => {
    assert.isTrue(PodOwner.isOwnedBy(built, pool))
    // The right labels are not enough.
    assert.isFalse(PodOwner.isOwnedBy(withOwners([]), pool))
    // A pool of the same name re-created: another uid.
    assert.isFalse(PodOwner.isOwnedBy(built, { ...pool, uid: "22222222-2222-2222-2222-222222222222" }))
    const owner = built.metadata!.ownerReferences![0]!
    // Owned, but not as its controller; or by something else that controls it.
    assert.isFalse(PodOwner.isOwnedBy(withOwners([{ ...owner, controller: false }]), pool))
    assert.isFalse(
      PodOwner.isOwnedBy(withOwners([{ ...owner, apiVersion: "apps/v1", kind: "ReplicaSet" }]), pool),
    )
    // The owner's name and the pool label must agree with the pool.
    assert.isFalse(PodOwner.isOwnedBy(withOwners([{ ...owner, name: "q" }]), pool))
    const relabelled: Pod = {
      ...built,
      metadata: { ...built.metadata, labels: { ...built.metadata?.labels, [SandboxPod.Label.pool]: "q" } },
    }
    assert.isFalse(PodOwner.isOwnedBy(relabelled, pool))
    // Unknown pool, or a pool without a uid yet.
    assert.isFalse(PodOwner.isOwnedBy(built, undefined))
    assert.isFalse(PodOwner.isOwnedBy(built, { ...pool, uid: "" }))
  })
})

describe("SandboxId", () => {
  it("mints ids of its own form and never one already in use", () => {
    const id = SandboxId.mint()
    assert.isTrue(SandboxId.isMinted(id))
    assert.isFalse(SandboxId.isMinted("abc"), "too short to be minted")
    assert.isFalse(SandboxId.isMinted(`${id}x`))
    assert.isFalse(SandboxId.isMinted(id.toUpperCase()))
    const taken = new Set<string>()
    let asked = 0
    // The first two draws are "in use": the third is returned.
    const fresh = SandboxId.mintUnused((candidate) => {
      asked++
      if (asked <= 2) taken.add(candidate)
      return asked <= 2
    })
    assert.strictEqual(asked, 3)
    assert.isFalse(taken.has(fresh))
    assert.isTrue(SandboxId.isMinted(fresh))
  })
})
