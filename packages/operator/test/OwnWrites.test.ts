import { WatcherEvent } from "@agent-sandbox/kube"
import { assert, describe, it } from "@effect/vitest"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as OwnWrites from "../src/cluster/OwnWrites.ts"
import * as SandboxChange from "../src/sandbox/SandboxChange.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"

const pod = (version: string, sandboxId?: string): Pod => ({
  metadata: {
    name: "p",
    namespace: "ns",
    resourceVersion: version,
    labels: {
      [SandboxPod.Label.pool]: "pool",
      [SandboxPod.Label.state]: sandboxId === undefined ? "idle" : "allocated",
      ...(sandboxId === undefined
        ? {}
        : { [SandboxPod.Label.sandboxId]: sandboxId, [SandboxPod.Label.tenant]: "t" }),
    },
  },
  spec: { containers: [{ name: "sandbox", image: "busybox" }] },
})

/** A store that the test moves by hand, as the watch would. */
const watched = () => {
  let version: string | undefined = "1"
  return { at: (v: string | undefined) => (version = v), version: () => version }
}

describe("OwnWrites", () => {
  it("reads a claim back until the watch holds a later version, even if older events reach it late", () => {
    const self = OwnWrites.make()
    const store = watched()
    OwnWrites.remember(self, pod("2", "s1"), "1", store.version())
    assert.strictEqual(OwnWrites.ofSandbox(self, "s1")?.metadata?.resourceVersion, "2")
    // An event for the version the claim was based on: still news.
    OwnWrites.observe(self, WatcherEvent.Apply(pod("1")), (_) => store.version())
    assert.isDefined(OwnWrites.ofSandbox(self, "s1"))
    store.at("2")
    OwnWrites.observe(self, WatcherEvent.Apply(pod("2", "s1")), (_) => store.version())
    assert.isUndefined(OwnWrites.ofSandbox(self, "s1"))
  })

  it("does not remember a write the watch has already moved past", () => {
    const self = OwnWrites.make()
    OwnWrites.remember(self, pod("2", "s1"), "1", "3")
    assert.isUndefined(OwnWrites.ofSandbox(self, "s1"))
  })

  it("remembers an end based on its own unseen claim, and keeps it until the watch shows the end", () => {
    const self = OwnWrites.make()
    const store = watched()
    OwnWrites.remember(self, pod("2", "s1"), "1", store.version())
    // Released before the watch showed the claim: the end is based on the claim's version.
    OwnWrites.rememberEnd(self, "s1", "ns/p", "2", store.version())
    assert.isNull(OwnWrites.ofSandbox(self, "s1"))
    store.at("2")
    OwnWrites.observe(self, WatcherEvent.Apply(pod("2", "s1")), (_) => store.version())
    assert.isNull(OwnWrites.ofSandbox(self, "s1"), "the claim's own event must not bring the sandbox back")
    store.at("3")
    OwnWrites.observe(self, WatcherEvent.Apply(pod("3")), (_) => store.version())
    assert.isUndefined(OwnWrites.ofSandbox(self, "s1"))
  })

  it("forgets at a relist what the listed store has moved past, and a deleted Pod's writes", () => {
    const self = OwnWrites.make()
    OwnWrites.remember(self, pod("2", "s1"), "1", "1")
    OwnWrites.observe(self, WatcherEvent.InitDone, (_) => "1")
    assert.isDefined(OwnWrites.ofSandbox(self, "s1"))
    OwnWrites.observe(self, WatcherEvent.Delete(pod("2", "s1")), (_) => undefined)
    assert.isUndefined(OwnWrites.ofSandbox(self, "s1"))
  })
})

describe("SandboxChange.between", () => {
  const tags = (changes: ReadonlyArray<SandboxChange.SandboxChange>) =>
    changes.map((c) => `${c._tag}:${c.sandbox.sandboxId}`)
  it("tells allocations, updates, ends and a recycled Pod's next tenant apart", () => {
    const held = (p: Pod) => SandboxChange.held(p)
    assert.deepStrictEqual(tags(SandboxChange.between(undefined, pod("1"))), [])
    assert.deepStrictEqual(tags(SandboxChange.between(undefined, pod("2", "a"))), ["Allocated:a"])
    assert.deepStrictEqual(tags(SandboxChange.between(held(pod("2", "a")), pod("3", "a"))), ["Updated:a"])
    assert.deepStrictEqual(tags(SandboxChange.between(held(pod("2", "a")), pod("2", "a"))), [])
    assert.deepStrictEqual(tags(SandboxChange.between(held(pod("3", "a")), pod("4"))), ["Ended:a"])
    assert.deepStrictEqual(tags(SandboxChange.between(held(pod("3", "a")), undefined)), ["Ended:a"])
    assert.deepStrictEqual(tags(SandboxChange.between(held(pod("3", "a")), pod("5", "b"))), [
      "Ended:a",
      "Allocated:b",
    ])
  })
})
