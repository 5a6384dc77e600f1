import type { SandboxTemplateSpec } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import type { Pod, Volume, VolumeMount } from "kubernetes-types/core/v1.js"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as Recycle from "../src/sandbox/Recycle.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"

const digest = `sha256:${"d".repeat(64)}`
const template: SandboxTemplateSpec = {
  podTemplate: {
    metadata: {
      labels: { app: "sbx" },
      annotations: { "team.example/owner": "infra", "kwok.agent-sandbox.dev/image-change-delay": "2s" },
    },
    spec: { containers: [{ name: "sandbox", image: "busybox:1.36" }] },
  },
  runtimes: [],
}
const target = PodFactory.target(template, false)
/** The old default: in place without a node agent, the Pod-level state carried over (opted in). */
const inPlace = { type: "InPlace" as const, acceptPodStateCarryOver: true }

/** An allocated Pod of the pool, as a claim (and the E2B front end) left it. */
const allocated = (
  options: {
    readonly image?: string
    readonly annotations?: Record<string, string>
    readonly volumes?: Array<Volume>
    readonly mounts?: Array<VolumeMount>
  } = {},
): Pod => {
  const built = PodFactory.build({
    pool: { name: "p", namespace: "ns", uid: "u" },
    template,
    useIdleImage: false,
    name: "p-1",
  })
  const image = options.image ?? "busybox:1.36"
  return {
    ...built,
    metadata: {
      ...built.metadata,
      resourceVersion: "42",
      labels: {
        ...built.metadata?.labels,
        [SandboxPod.Label.state]: "allocated",
        [SandboxPod.Label.sandboxId]: "sbx1",
        [SandboxPod.Label.tenant]: "team-a",
      },
      annotations: {
        ...built.metadata?.annotations,
        [SandboxPod.Annotation.allocatedAt]: "2026-01-01T00:00:00Z",
        [SandboxPod.Annotation.expiresAt]: "2026-01-01T00:05:00Z",
        [SandboxPod.Annotation.metadata]: "{}",
        "e2b.agent-sandbox.dev/access-token-sha256": "f".repeat(64),
        "e2b.agent-sandbox.dev/env-vars": '{"SECRET":"x"}',
        ...options.annotations,
      },
    },
    spec: {
      ...built.spec!,
      containers: [{ name: "sandbox", image, ...(options.mounts ? { volumeMounts: options.mounts } : {}) }],
      ...(options.volumes ? { volumes: options.volumes } : {}),
    },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [
        {
          name: "sandbox",
          image,
          imageID: `docker.io/library/busybox@${digest}`,
          containerID: "containerd://c1",
          ready: true,
          restartCount: 0,
          state: { running: {} },
        },
      ],
    },
  }
}

interface RecyclePatch {
  readonly metadata: {
    readonly resourceVersion: string
    readonly labels: Record<string, string | null>
    readonly annotations: Record<string, string | null>
  }
  readonly spec: { readonly containers: ReadonlyArray<{ readonly name: string; readonly image: string }> }
}

const patchOf = (decision: Recycle.Decision): RecyclePatch => {
  assert.strictEqual(decision._tag, "InPlace")
  return (decision as { patch: RecyclePatch }).patch
}

describe("Recycle", () => {
  it("takes every trace of the sandbox off the Pod, the front end's too, and keeps the Pod's own", () => {
    const patch = patchOf(
      Recycle.decide({ pod: allocated({ image: "python:3.12" }), policy: inPlace, target, now: 0 }),
    )
    assert.strictEqual(patch.metadata.resourceVersion, "42")
    assert.strictEqual(patch.metadata.labels[SandboxPod.Label.state], "idle")
    assert.isNull(patch.metadata.labels[SandboxPod.Label.sandboxId])
    assert.isNull(patch.metadata.labels[SandboxPod.Label.tenant])
    assert.notProperty(patch.metadata.labels, "app")
    for (const key of [
      SandboxPod.Annotation.allocatedAt,
      SandboxPod.Annotation.expiresAt,
      SandboxPod.Annotation.metadata,
      "e2b.agent-sandbox.dev/access-token-sha256",
      "e2b.agent-sandbox.dev/env-vars",
    ]) {
      assert.isNull(patch.metadata.annotations[key], key)
    }
    assert.notProperty(patch.metadata.annotations, "team.example/owner")
    // A template's own key in this domain stays, at the template's value.
    assert.notProperty(patch.metadata.annotations, "kwok.agent-sandbox.dev/image-change-delay")
    const overwritten = patchOf(
      Recycle.decide({
        pod: allocated({ annotations: { "kwok.agent-sandbox.dev/image-change-delay": "0s" } }),
        policy: inPlace,
        target,
        now: 0,
      }),
    )
    assert.strictEqual(overwritten.metadata.annotations["kwok.agent-sandbox.dev/image-change-delay"], "2s")
    assert.notProperty(patch.metadata.annotations, SandboxPod.Annotation.container)
    assert.strictEqual(patch.metadata.annotations[SandboxPod.Annotation.reuses], "1")
    // Off the runtime's image, back onto the pool's.
    assert.deepStrictEqual(patch.spec.containers, [{ name: "sandbox", image: "busybox:1.36" }])
    assert.isNull(patch.metadata.annotations[SandboxPod.Annotation.image])
    assert.deepStrictEqual(
      SandboxPod.parseRestart(patch.metadata.annotations[SandboxPod.Annotation.restart]!),
      {
        reason: "recycle",
        from: "containerd://c1",
        at: 0,
      },
    )
  })

  it("restarts a container already on the pool image by pinning that image to its own digest, and back", () => {
    const pinnedPatch = patchOf(Recycle.decide({ pod: allocated(), policy: inPlace, target, now: 0 }))
    assert.deepStrictEqual(pinnedPatch.spec.containers, [
      { name: "sandbox", image: `busybox:1.36@${digest}` },
    ])
    assert.strictEqual(pinnedPatch.metadata.annotations[SandboxPod.Annotation.image], "busybox:1.36")
    const pinned = allocated({
      image: `busybox:1.36@${digest}`,
      annotations: { [SandboxPod.Annotation.image]: "busybox:1.36", [SandboxPod.Annotation.reuses]: "1" },
    })
    assert.strictEqual(SandboxPod.read(pinned)?.image, "busybox:1.36")
    const back = patchOf(Recycle.decide({ pod: pinned, policy: inPlace, target, now: 0 }))
    assert.deepStrictEqual(back.spec.containers, [{ name: "sandbox", image: "busybox:1.36" }])
    assert.strictEqual(back.metadata.annotations[SandboxPod.Annotation.reuses], "2")
  })

  it("restarts even when the kubelet has not yet acted on the claim's swap (the old container still runs)", () => {
    // Claimed with a swap to python, released before the kubelet restarted anything: the pool image
    // is what the running container was started from, so only its pinned form makes it restart.
    const pod = allocated({ image: "python:3.12" })
    pod.status!.containerStatuses![0]!.image = "busybox:1.36"
    const patch = patchOf(Recycle.decide({ pod, policy: inPlace, target, now: 0 }))
    assert.deepStrictEqual(patch.spec.containers, [{ name: "sandbox", image: `busybox:1.36@${digest}` }])
  })

  it("deletes when no other reference to the pool image is known", () => {
    const pod = allocated()
    pod.status!.containerStatuses![0]!.imageID = `sha256:${"e".repeat(64)}`
    assert.deepStrictEqual(Recycle.decide({ pod, policy: inPlace, target, now: 0 }), {
      _tag: "Delete",
      reason: "NoRestartReference",
    })
  })

  it("deletes by policy, past maxReuses, and when the template changed beyond images", () => {
    const pod = allocated({ annotations: { [SandboxPod.Annotation.reuses]: "3" } })
    const decide = (policy: Parameters<typeof Recycle.decide>[0]["policy"], t = target) =>
      Recycle.decide({ pod, policy, target: t, now: 0 })
    assert.deepStrictEqual(decide({ type: "Delete", acceptPodStateCarryOver: false }), {
      _tag: "Delete",
      reason: "Policy",
    })
    assert.deepStrictEqual(decide({ ...inPlace, maxReuses: 3 }), { _tag: "Delete", reason: "MaxReuses" })
    assert.strictEqual(decide({ ...inPlace, maxReuses: 4 })._tag, "InPlace")
    const resized = PodFactory.target(
      {
        ...template,
        podTemplate: {
          spec: {
            containers: [{ name: "sandbox", image: "busybox:1.36", resources: { limits: { cpu: "2" } } }],
          },
        },
      },
      false,
    )
    assert.deepStrictEqual(decide(inPlace, resized), { _tag: "Delete", reason: "Outdated" })
    const newImage = PodFactory.target(
      {
        ...template,
        podTemplate: {
          ...template.podTemplate,
          spec: { containers: [{ name: "sandbox", image: "busybox:1.37" }] },
        },
      },
      false,
    )
    assert.deepStrictEqual(patchOf(decide(inPlace, newImage)).spec.containers, [
      { name: "sandbox", image: "busybox:1.37" },
    ])
  })

  it("deletes at once when the pool holds its warm target already, recycles in place below it", () => {
    const pod = allocated()
    const decide = (idle: number, warmTarget: number) =>
      Recycle.decide({
        pod,
        policy: inPlace,
        target,
        now: 0,
        poolFull: Recycle.poolIsFull({ idle, warmTarget }),
      })
    assert.deepStrictEqual(decide(3, 3), { _tag: "Delete", reason: "Surplus" })
    assert.deepStrictEqual(decide(4, 3), { _tag: "Delete", reason: "Surplus" })
    assert.strictEqual(decide(2, 3)._tag, "InPlace")
    // The policy's own reasons come first: they say more than "surplus".
    assert.deepStrictEqual(
      Recycle.decide({
        pod,
        policy: { type: "Delete", acceptPodStateCarryOver: false },
        target,
        now: 0,
        poolFull: true,
      }),
      {
        _tag: "Delete",
        reason: "Policy",
      },
    )
  })

  it("compares a release with the replicas plus the callers waiting, within autoscaling's bounds", () => {
    const pool = (spec: Record<string, unknown>) =>
      ({ metadata: { name: "p" }, spec: { replicas: 4, ...spec } }) as unknown as Parameters<
        typeof Recycle.releaseWarmTarget
      >[0]
    assert.strictEqual(Recycle.releaseWarmTarget(pool({}), 0), 4)
    assert.strictEqual(Recycle.releaseWarmTarget(pool({}), 2), 6)
    const autoscaled = { enabled: true, minReplicas: 5, maxReplicas: 7 }
    assert.strictEqual(Recycle.releaseWarmTarget(pool({ autoscaling: autoscaled }), 0), 5)
    assert.strictEqual(Recycle.releaseWarmTarget(pool({ autoscaling: autoscaled }), 9), 7)
    assert.strictEqual(
      Recycle.releaseWarmTarget(pool({ autoscaling: { ...autoscaled, enabled: false } }), 9),
      13,
    )
  })

  it("deletes a Pod with a volume that outlives a restart: any emptyDir, or a read-write mount in the sandbox", () => {
    const decide = (volumes: Array<Volume>, mounts: Array<VolumeMount>) =>
      Recycle.decide({ pod: allocated({ volumes, mounts }), policy: inPlace, target, now: 0 })
    const writable: Recycle.Decision = { _tag: "Delete", reason: "WritableVolume" }
    assert.deepStrictEqual(decide([{ name: "scratch", emptyDir: {} }], []), writable)
    assert.deepStrictEqual(
      decide(
        [{ name: "data", persistentVolumeClaim: { claimName: "c" } }],
        [{ name: "data", mountPath: "/data" }],
      ),
      writable,
    )
    assert.strictEqual(
      decide(
        [{ name: "data", persistentVolumeClaim: { claimName: "c" } }],
        [{ name: "data", mountPath: "/data", readOnly: true }],
      )._tag,
      "InPlace",
    )
    assert.strictEqual(
      decide([{ name: "cfg", configMap: { name: "c" } }], [{ name: "cfg", mountPath: "/etc/cfg" }])._tag,
      "InPlace",
    )
  })

  it("deletes a Pod whose sandbox has company: another container, a native sidecar, a shared or host namespace", () => {
    const base = allocated()
    const decide = (pod: Pod) => Recycle.decide({ pod, policy: inPlace, target, now: 0 })
    const withSpec = (spec: Partial<NonNullable<Pod["spec"]>>): Pod => ({
      ...base,
      spec: { ...base.spec!, ...spec },
    })
    assert.deepStrictEqual(
      decide(withSpec({ containers: [...base.spec!.containers, { name: "proxy", image: "envoy:1" }] })),
      { _tag: "Delete", reason: "Sidecar" },
    )
    assert.deepStrictEqual(
      decide(withSpec({ initContainers: [{ name: "agent", image: "agent:1", restartPolicy: "Always" }] })),
      { _tag: "Delete", reason: "Sidecar" },
    )
    // An init container that ran to completion before the sandbox started keeps nothing running.
    assert.strictEqual(
      decide(withSpec({ initContainers: [{ name: "setup", image: "setup:1" }] }))._tag,
      "InPlace",
    )
    for (const shared of [
      { shareProcessNamespace: true },
      { hostPID: true },
      { hostIPC: true },
      { hostNetwork: true },
    ]) {
      assert.deepStrictEqual(
        decide(withSpec(shared)),
        { _tag: "Delete", reason: "SharedNamespace" },
        JSON.stringify(shared),
      )
    }
    assert.strictEqual(decide(base)._tag, "InPlace")
  })

  describe("the Pod's own state (/dev/shm, SysV IPC), which a container restart leaves", () => {
    const byDefault = { type: "InPlace" as const, acceptPodStateCarryOver: false }
    const scrubMark = (decision: Recycle.Decision) =>
      patchOf(decision).metadata.annotations[SandboxPod.Annotation.scrub]

    it("recycles in place where a node agent serves the Pod's node, marked for the agent to clear", () => {
      const decision = Recycle.decide({
        pod: allocated(),
        policy: byDefault,
        target,
        now: 0,
        agentOnNode: true,
      })
      assert.strictEqual(decision._tag, "InPlace")
      assert.isTrue((decision as { scrub: boolean }).scrub)
      assert.strictEqual(scrubMark(decision), "pending")
      // The rest of the write is the recycle it always was: one conditional patch, a restart reference.
      assert.strictEqual(patchOf(decision).metadata.resourceVersion, "42")
      assert.deepStrictEqual(patchOf(decision).spec.containers, [
        { name: "sandbox", image: `busybox:1.36@${digest}` },
      ])
    })

    it("deletes (PodState) where no agent serves the node, by default", () => {
      assert.deepStrictEqual(Recycle.decide({ pod: allocated(), policy: byDefault, target, now: 0 }), {
        _tag: "Delete",
        reason: "PodState",
      })
      assert.deepStrictEqual(
        Recycle.decide({ pod: allocated(), policy: byDefault, target, now: 0, agentOnNode: false }),
        { _tag: "Delete", reason: "PodState" },
      )
    })

    it("recycles in place without an agent only when the pool accepts the carry-over, and then unmarked", () => {
      const decision = Recycle.decide({ pod: allocated(), policy: inPlace, target, now: 0 })
      assert.isFalse((decision as { scrub: boolean }).scrub)
      assert.isNull(scrubMark(decision))
      // An agent still clears the Pod where there is one, opt-in or not.
      assert.strictEqual(
        scrubMark(Recycle.decide({ pod: allocated(), policy: inPlace, target, now: 0, agentOnNode: true })),
        "pending",
      )
    })

    it("gives the other reasons first: an agent does not make a writable volume or a sidecar safe", () => {
      const decide = (pod: Pod) =>
        Recycle.decide({ pod, policy: byDefault, target, now: 0, agentOnNode: true })
      assert.deepStrictEqual(decide(allocated({ volumes: [{ name: "s", emptyDir: {} }] })), {
        _tag: "Delete",
        reason: "WritableVolume",
      })
      const base = allocated()
      assert.deepStrictEqual(
        decide({ ...base, spec: { ...base.spec!, containers: [...base.spec!.containers, { name: "x" }] } }),
        { _tag: "Delete", reason: "Sidecar" },
      )
    })

    it("offers a marked Pod only once it is clear: due when idle and Ready on the restarted container", () => {
      const recycled = (annotations: Record<string, string>, ready: boolean): SandboxPod.SandboxPod => {
        const pod = allocated({ annotations })
        pod.metadata!.labels![SandboxPod.Label.state] = "idle"
        pod.status!.conditions = [{ type: "Ready", status: ready ? "True" : "False" }]
        return SandboxPod.read(pod)!
      }
      const marked = recycled({ [SandboxPod.Annotation.scrub]: "pending" }, true)
      assert.isTrue(marked.scrubPending)
      assert.isTrue(Recycle.scrubDue(marked))
      assert.isFalse(SandboxPod.isClaimable(marked), "not offered while marked")
      assert.isFalse(Recycle.scrubDue(recycled({ [SandboxPod.Annotation.scrub]: "pending" }, false)))
      const clean = recycled({}, true)
      assert.isFalse(Recycle.scrubDue(clean))
      assert.isTrue(SandboxPod.isClaimable(clean))
      assert.deepStrictEqual(Recycle.scrubbedPatch("7"), {
        metadata: { resourceVersion: "7", annotations: { [SandboxPod.Annotation.scrub]: null } },
      })
    })
  })
})
