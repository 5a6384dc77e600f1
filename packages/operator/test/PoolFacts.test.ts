import { SandboxPool, type SandboxTemplateSpec } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as PoolFacts from "../src/pool/PoolFacts.ts"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"

const template: SandboxTemplateSpec = {
  podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox:1.36" }] } },
  runtimes: [],
}
const target = PodFactory.target(template, false)
const pool = (recyclePolicy: Record<string, unknown>) =>
  Schema.decodeUnknownSync(SandboxPool)({
    apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
    kind: "SandboxPool",
    metadata: { name: "p", namespace: "ns", uid: "u" },
    spec: { replicas: 1, template, recyclePolicy },
  })

/** A Pod of the pool on node n1 whose sandbox has expired (its end is due: recycled or deleted soon). */
const expired = (): Pod => {
  const built = PodFactory.build({
    pool: { name: "p", namespace: "ns", uid: "u" },
    template,
    useIdleImage: false,
    name: "p-1",
  })
  return {
    ...built,
    metadata: {
      ...built.metadata,
      resourceVersion: "1",
      labels: {
        ...built.metadata?.labels,
        [SandboxPod.Label.state]: "allocated",
        [SandboxPod.Label.sandboxId]: "s",
      },
      annotations: {
        ...built.metadata?.annotations,
        [SandboxPod.Annotation.expiresAt]: "2026-01-01T00:00:00Z",
      },
    },
    spec: { ...built.spec!, nodeName: "n1" },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [
        {
          name: "sandbox",
          image: "busybox:1.36",
          imageID: `docker.io/library/busybox@sha256:${"d".repeat(64)}`,
          containerID: "containerd://c1",
          ready: true,
          restartCount: 0,
          state: { running: {} },
        },
      ],
    },
  }
}

describe("PoolFacts", () => {
  it("counts an ending Pod as coming back only where it can be recycled in place: an agent on its node, or the opt-in", () => {
    const pod = expired()
    const recyclable = (recyclePolicy: Record<string, unknown>, servedNodes?: ReadonlySet<string>) =>
      PoolFacts.podFacts({
        pool: pool(recyclePolicy),
        target,
        pods: [{ pod, view: SandboxPod.read(pod)! }],
        updatesWritten: new Map(),
        now: Date.parse("2026-01-02T00:00:00Z"),
        servedNodes,
      })[0]?.recyclable
    assert.isTrue(recyclable({}, new Set(["n1"])))
    assert.isFalse(recyclable({}, new Set(["n2"])))
    assert.isFalse(recyclable({}))
    assert.isTrue(recyclable({ acceptPodStateCarryOver: true }))
    assert.isFalse(recyclable({ type: "Delete" }, new Set(["n1"])))
  })
})
