import { assert, describe, it } from "@effect/vitest"
import type * as k8s from "@kubernetes/client-node"
import { DelayAnnotation, kwokConfigDocuments } from "../src/KwokConfig.ts"
import { imagesOf, workdirAction } from "../src/PodWorkdirs.ts"
import { nodesProblem } from "../src/Readiness.ts"
import { namespaceName } from "../src/TestNamespace.ts"

const pod = (images: Record<string, string>): k8s.V1Pod => ({
  spec: { containers: Object.entries(images).map(([name, image]) => ({ name, image })) },
})

describe("PodWorkdirs", () => {
  it("identifies a Pod's filesystem by its containers' images, in any order", () => {
    assert.strictEqual(imagesOf(pod({ b: "two", a: "one" })), imagesOf(pod({ a: "one", b: "two" })))
    assert.notStrictEqual(imagesOf(pod({ a: "one" })), imagesOf(pod({ a: "uno" })))
  })

  it("creates on add, wipes on an image change, keeps otherwise, removes on delete", () => {
    assert.strictEqual(workdirAction("add", undefined, "a=1"), "ensure")
    assert.strictEqual(workdirAction("update", undefined, "a=1"), "ensure")
    assert.strictEqual(workdirAction("update", "a=1", "a=1"), "none")
    assert.strictEqual(workdirAction("update", "a=1", "a=2"), "wipe")
    assert.strictEqual(workdirAction("delete", "a=1", "a=1"), "remove")
  })
})

describe("Readiness", () => {
  const node = (name: string, ready: boolean, taints: Array<k8s.V1Taint> = []): k8s.V1Node => ({
    metadata: { name },
    spec: { taints },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  })

  it("wants every node Ready and free of scheduling taints", () => {
    assert.strictEqual(nodesProblem(["a", "b"], [node("a", true), node("b", true)]), true)
    assert.strictEqual(nodesProblem(["a", "b"], [node("a", true)]), "b missing")
    assert.strictEqual(nodesProblem(["a"], [node("a", false)]), "a not Ready")
    const tainted = node("a", true, [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }])
    assert.strictEqual(nodesProblem(["a"], [tainted]), "a tainted node.kubernetes.io/not-ready")
    const preferred = node("a", true, [{ key: "soft", effect: "PreferNoSchedule" }])
    assert.strictEqual(nodesProblem(["a"], [preferred]), true)
  })
})

describe("TestNamespace", () => {
  it("makes DNS labels of any prefix", () => {
    assert.strictEqual(namespaceName("My Test_Case", "abc123"), "my-test-case-abc123")
    assert.strictEqual(namespaceName("---", "abc123"), "test-abc123")
    assert.isAtMost(namespaceName("x".repeat(80), "abc123").length, 63)
  })
})

describe("KwokConfig", () => {
  const documents = (execUser: { uid: number; gid: number } | undefined, podReadyDelayMillis = 0) =>
    JSON.stringify(kwokConfigDocuments({ podsDir: "/data/pods", execUser, podReadyDelayMillis }))

  it("runs exec'd commands as the exec user in the Pod's directory", () => {
    const text = documents({ uid: 65534, gid: 65534 })
    assert.include(text, "runAsUser: 65534")
    assert.include(text, '\\"/data/pods\\" .metadata.namespace .metadata.name')
    assert.notInclude(documents(undefined), "runAsUser")
  })

  it("makes Pods Ready at once unless a delay is asked for, by the control plane or the Pod", () => {
    assert.include(documents(undefined), '"durationMilliseconds":0')
    assert.include(documents(undefined, 250), '"durationMilliseconds":250')
    assert.include(documents(undefined), DelayAnnotation.ready)
    assert.include(documents(undefined), DelayAnnotation.imageChange)
  })
})
