import { assert, describe, it } from "@effect/vitest"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"

const pod = (
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
  ready = true,
  main: { readonly spec?: string; readonly status?: string; readonly containerID?: string } = {},
): Pod => ({
  metadata: { name: "p", namespace: "ns", resourceVersion: "7", labels, annotations },
  spec: { containers: [{ name: "main", image: main.spec ?? "img:1" }] },
  status: {
    phase: "Running",
    conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    containerStatuses: [
      {
        name: "main",
        image: main.status ?? main.spec ?? "img:1",
        imageID: "docker.io/library/img@sha256:abc",
        containerID: main.containerID ?? "containerd://one",
        ready,
        restartCount: 0,
        state: { running: { startedAt: "2026-01-01T00:00:00Z" } },
      },
    ],
  },
})
const idleLabels = { [SandboxPod.Label.pool]: "pool", [SandboxPod.Label.state]: "idle" }

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

  it("is not Ready on an image change until another container runs the new image", () => {
    const restart = SandboxPod.encodeRestart({ reason: "update", from: "containerd://one", at: 1 })
    const annotations = { [SandboxPod.Annotation.restart]: restart }
    // The kubelet has not acted yet: the Pod still says Ready, the status still the old image.
    const before = SandboxPod.read(pod(idleLabels, annotations, true, { spec: "img:2", status: "img:1" }))!
    assert.isFalse(before.ready)
    assert.strictEqual(before.restarting?.reason, "update")
    // Same container still reported: not done, whatever image the status names.
    const stale = SandboxPod.read(pod(idleLabels, annotations, true, { spec: "img:2", status: "img:2" }))!
    assert.isFalse(stale.ready)
    const done = SandboxPod.read(
      pod(idleLabels, annotations, true, {
        spec: "img:2",
        status: "docker.io/library/img:2",
        containerID: "c2",
      }),
    )!
    assert.isTrue(done.ready)
    assert.isUndefined(done.restarting)
  })

  it("reports a failing image from the kubelet's waiting reason", () => {
    const p = pod(idleLabels, {}, false, { spec: "img:fail" })
    p.status!.containerStatuses![0] = {
      name: "main",
      image: "img:fail",
      imageID: "",
      ready: false,
      restartCount: 0,
      state: { waiting: { reason: "ErrImagePull", message: "not found" } },
    }
    const read = SandboxPod.read(p)!
    assert.deepStrictEqual(read.imageStatus, {
      _tag: "Failing",
      reason: "ErrImagePull",
      message: "not found",
    })
  })

  it("reports a missing new image while a real kubelet still names the old container", () => {
    const restart = SandboxPod.encodeRestart({ reason: "allocate", from: "containerd://one", at: 1 })
    const p = pod(idleLabels, { [SandboxPod.Annotation.restart]: restart }, false, { spec: "img:missing" })
    // The status a v1.36 kubelet wrote after the image change (the real node's test).
    p.status!.containerStatuses![0] = {
      name: "main",
      containerID: "containerd://one",
      image: "img:1",
      imageID: "img@sha256:abc",
      ready: false,
      restartCount: 0,
      lastState: { terminated: { containerID: "containerd://one", exitCode: 0, reason: "Completed" } },
      state: {
        waiting: { reason: "ErrImageNeverPull", message: 'Container image "img:missing" is not present' },
      },
    }
    assert.deepStrictEqual(SandboxPod.read(p)!.imageStatus, {
      _tag: "Failing",
      reason: "ErrImageNeverPull",
      message: 'Container image "img:missing" is not present',
    })
    // The old container still running (the kubelet has not acted yet): still starting.
    const running = {
      ...p,
      status: { containerStatuses: [{ ...p.status!.containerStatuses![0]!, lastState: {} }] },
    }
    assert.strictEqual(SandboxPod.read(running)!.imageStatus._tag, "Starting")
  })

  it("reads a pinned form of an image as that image", () => {
    const p = SandboxPod.read(
      pod(idleLabels, { [SandboxPod.Annotation.image]: "img:1" }, true, { spec: "img:1@sha256:abc" }),
    )!
    assert.strictEqual(p.image, "img:1")
    assert.strictEqual(
      SandboxPod.read(
        pod(idleLabels, { [SandboxPod.Annotation.image]: "other" }, true, { spec: "img:1@sha256:abc" }),
      )!.image,
      "img:1@sha256:abc",
    )
  })

  it("tells the keys a sandbox leaves on its Pod from the Pod's own", () => {
    assert.isTrue(SandboxPod.isSandboxKey(SandboxPod.Label.sandboxId))
    assert.isTrue(SandboxPod.isSandboxKey(SandboxPod.Annotation.metadata))
    assert.isTrue(SandboxPod.isSandboxKey("e2b.agent-sandbox.dev/access-token-sha256"))
    assert.isFalse(SandboxPod.isSandboxKey(SandboxPod.Label.pool))
    assert.isFalse(SandboxPod.isSandboxKey(SandboxPod.Annotation.reuses))
    assert.isFalse(SandboxPod.isSandboxKey("app.kubernetes.io/name"))
    assert.isFalse(SandboxPod.isSandboxKey("evil-agent-sandbox.dev/x"))
  })

  it("swaps the image in the claim's one write, merging the container by name", () => {
    const patch = SandboxPod.claimPatch({
      resourceVersion: "7",
      sandboxId: "sbx-1",
      tenant: "team-a",
      now: 0,
      timeoutSeconds: 60,
      metadata: {},
      runtime: { name: "python", env: { LANG: "C" } },
      swap: { containerName: "main", image: "python:3.12", replacing: "containerd://one" },
    }) as {
      metadata: { resourceVersion: string; annotations: Record<string, string | null> }
      spec: { containers: Array<{ name: string; image: string }> }
    }
    assert.strictEqual(patch.metadata.resourceVersion, "7")
    assert.deepStrictEqual(patch.spec.containers, [{ name: "main", image: "python:3.12" }])
    assert.strictEqual(patch.metadata.annotations[SandboxPod.Annotation.runtime], "python")
    assert.deepStrictEqual(
      SandboxPod.parseRestart(patch.metadata.annotations[SandboxPod.Annotation.restart]!),
      {
        reason: "allocate",
        from: "containerd://one",
        at: 0,
      },
    )
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
