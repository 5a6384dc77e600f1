import { describe, expect, it } from "@effect/vitest"
import * as ConfirmedContainers from "../src/e2b/ConfirmedContainers.ts"
import { containerIdOf } from "../src/e2b/SandboxResolver.ts"

const confirmation = { podUid: "uid-1", containerId: "c1", at: 1_000 }
const same = { podUid: "uid-1", containerId: "c1" }

describe("ConfirmedContainers.reusable", () => {
  it("a fresh read stands while the cache shows the same Pod and container, within the age", () => {
    expect(ConfirmedContainers.reusable(confirmation, same, 1_000, 30_000)).toBe(true)
    expect(ConfirmedContainers.reusable(confirmation, same, 30_999, 30_000)).toBe(true)
    expect(ConfirmedContainers.reusable(confirmation, same, 31_000, 30_000)).toBe(false)
  })

  it("not for another Pod, another or no container, a clock gone back, nothing read yet, or age 0", () => {
    expect(ConfirmedContainers.reusable(confirmation, { ...same, podUid: "uid-2" }, 2_000, 30_000)).toBe(
      false,
    )
    expect(ConfirmedContainers.reusable(confirmation, { ...same, containerId: "c2" }, 2_000, 30_000)).toBe(
      false,
    )
    expect(
      ConfirmedContainers.reusable(confirmation, { ...same, containerId: undefined }, 2_000, 30_000),
    ).toBe(false)
    expect(ConfirmedContainers.reusable(confirmation, same, 999, 30_000)).toBe(false)
    expect(ConfirmedContainers.reusable(undefined, same, 2_000, 30_000)).toBe(false)
    expect(ConfirmedContainers.reusable(confirmation, same, 1_000, 0)).toBe(false)
  })
})

describe("ConfirmedContainers.make", () => {
  it("keeps at most maxEntries, forgetting the oldest first; forget drops one; 0 keeps none", () => {
    const store = ConfirmedContainers.make(2)
    store.set("a", confirmation)
    store.set("b", { ...confirmation, containerId: "c2" })
    store.set("a", { ...confirmation, at: 2_000 })
    store.set("c", { ...confirmation, containerId: "c3" })
    expect(store.get("b")).toBeUndefined()
    expect(store.get("a")?.at).toBe(2_000)
    expect(store.get("c")?.containerId).toBe("c3")
    store.forget("a")
    expect(store.get("a")).toBeUndefined()
    const none = ConfirmedContainers.make(0)
    none.set("a", confirmation)
    expect(none.get("a")).toBeUndefined()
  })
})

describe("SandboxResolver.containerIdOf", () => {
  it("the named container's runtime id without its scheme; undefined before it runs", () => {
    const pod = {
      status: {
        containerStatuses: [
          {
            name: "side",
            containerID: "containerd://aaa",
            image: "",
            imageID: "",
            ready: true,
            restartCount: 0,
          },
          {
            name: "sandbox",
            containerID: "containerd://bbb",
            image: "",
            imageID: "",
            ready: true,
            restartCount: 0,
          },
        ],
      },
    }
    expect(containerIdOf(pod, "sandbox")).toBe("bbb")
    expect(containerIdOf(pod, "side")).toBe("aaa")
    expect(containerIdOf(pod, "other")).toBeUndefined()
    expect(
      containerIdOf(
        { status: { containerStatuses: [{ ...pod.status.containerStatuses[1]!, containerID: "" }] } },
        "sandbox",
      ),
    ).toBeUndefined()
    expect(containerIdOf({}, "sandbox")).toBeUndefined()
  })
})
