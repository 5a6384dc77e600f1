import type { SandboxTemplateSpec } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as CachedPod from "../src/sandbox/CachedPod.ts"
import * as ImageStatus from "../src/sandbox/ImageStatus.ts"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as PodOwner from "../src/sandbox/PodOwner.ts"
import * as PodUpdate from "../src/sandbox/PodUpdate.ts"
import * as Recycle from "../src/sandbox/Recycle.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"

const template: SandboxTemplateSpec = {
  podTemplate: {
    metadata: { labels: { app: "sbx" } },
    spec: {
      containers: [
        { name: "sidecar", image: "envoy:1" },
        { name: "sandbox", image: "python:3.12" },
      ],
    },
  },
  containerName: "sandbox",
  runtimes: [],
}
const target = PodFactory.target(template, false)
const other = PodFactory.target(
  { ...template, podTemplate: { spec: { containers: [{ name: "sandbox", image: "node:24" }] } } },
  false,
)

/** A Pod as the API server sends it (managedFields aside), with much the operator never reads. */
const full = (
  options: {
    readonly state?: "idle" | "allocated"
    readonly ready?: boolean
    readonly waiting?: { reason: string; message: string }
    readonly deleting?: boolean
    readonly phase?: string
    readonly sandboxImage?: string
    readonly runningImage?: string
    readonly restart?: SandboxPod.Restart
    readonly volumes?: boolean
  } = {},
): Pod => {
  const ready = options.ready ?? true
  const sandboxImage = options.sandboxImage ?? "python:3.12"
  const runningImage = options.runningImage ?? sandboxImage
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "p-1",
      namespace: "ns",
      uid: "u-1",
      resourceVersion: "42",
      generation: 1,
      creationTimestamp: "2026-01-01T00:00:00Z",
      ...(options.deleting ? { deletionTimestamp: "2026-01-01T00:09:00Z" } : {}),
      labels: {
        app: "sbx",
        [SandboxPod.Label.pool]: "pool",
        [SandboxPod.Label.state]: options.state ?? "allocated",
        [SandboxPod.Label.revision]: target.revision,
        [SandboxPod.Label.shape]: target.shape,
        ...(options.state === "idle"
          ? {}
          : { [SandboxPod.Label.sandboxId]: "sbx1", [SandboxPod.Label.tenant]: "team-a" }),
      },
      annotations: {
        [SandboxPod.Annotation.container]: "sandbox",
        [SandboxPod.Annotation.allocatedAt]: "2026-01-01T00:00:00Z",
        [SandboxPod.Annotation.expiresAt]: "2026-01-01T00:05:00Z",
        [SandboxPod.Annotation.metadata]: '{"run":"7"}',
        [SandboxPod.Annotation.runtime]: "py",
        [SandboxPod.Annotation.runtimeEnv]: '{"A":"1"}',
        [SandboxPod.Annotation.reuses]: "2",
        ...(options.restart === undefined
          ? {}
          : { [SandboxPod.Annotation.restart]: SandboxPod.encodeRestart(options.restart) }),
      },
      ownerReferences: [
        { apiVersion: "v1", kind: "ConfigMap", name: "other-owner", uid: "cu" },
        {
          apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
          kind: "SandboxPool",
          name: "pool",
          uid: "pu",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: [
        {
          name: "sidecar",
          image: "envoy:1",
          env: [{ name: "LEVEL", value: "debug" }],
          ports: [{ containerPort: 9901 }],
          volumeMounts: [{ name: "scratch", mountPath: "/scratch" }],
        },
        {
          name: "sandbox",
          image: sandboxImage,
          command: ["sleep", "infinity"],
          resources: { limits: { cpu: "2", memory: "1Gi" }, requests: { "ephemeral-storage": "5Gi" } },
          readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 },
          volumeMounts: [
            { name: "config", mountPath: "/etc/app", readOnly: true },
            { name: "data", mountPath: "/data" },
            { name: "token", mountPath: "/var/run/secrets", readOnly: true },
          ],
        },
      ],
      ...(options.volumes === false
        ? {}
        : {
            volumes: [
              { name: "config", configMap: { name: "app", items: [{ key: "a", path: "a" }] } },
              { name: "data", persistentVolumeClaim: { claimName: "data" } },
              { name: "scratch", emptyDir: { sizeLimit: "1Gi" } },
              {
                name: "token",
                projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3600 } }] },
              },
            ],
          }),
      initContainers: [
        { name: "setup", image: "setup:1", command: ["true"] },
        { name: "agent", image: "agent:1", restartPolicy: "Always" },
      ],
      shareProcessNamespace: true,
      hostIPC: false,
      nodeName: "node-1",
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" }],
    },
    status: {
      phase: options.phase ?? "Running",
      conditions: [
        { type: "Initialized", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" },
        { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: "2026-01-01T00:00:01Z" },
        { type: "PodScheduled", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z" },
      ],
      podIP: "10.0.0.7",
      startTime: "2026-01-01T00:00:00Z",
      containerStatuses: [
        {
          name: "sidecar",
          image: "docker.io/library/envoy:1",
          imageID: `docker.io/library/envoy@sha256:${"e".repeat(64)}`,
          containerID: "containerd://side",
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: "2026-01-01T00:00:00Z" } },
        },
        {
          name: "sandbox",
          image: runningImage,
          imageID: `docker.io/library/python@sha256:${"d".repeat(64)}`,
          containerID: "containerd://two",
          ready: ready && options.waiting === undefined,
          restartCount: 1,
          started: true,
          lastState: { terminated: { exitCode: 137, reason: "Error", startedAt: "2026-01-01T00:00:00Z" } },
          state:
            options.waiting === undefined
              ? { running: { startedAt: "2026-01-01T00:00:00Z" } }
              : { waiting: options.waiting },
        },
      ],
      qosClass: "Burstable",
    },
  }
}

const variants: ReadonlyArray<[string, Pod]> = [
  ["allocated, Ready", full()],
  ["idle, Ready", full({ state: "idle" })],
  ["idle, not Ready", full({ state: "idle", ready: false })],
  ["pulling fails", full({ waiting: { reason: "ImagePullBackOff", message: "no such image" } })],
  ["being deleted", full({ deleting: true })],
  ["failed", full({ phase: "Failed" })],
  [
    "image change under way",
    full({
      sandboxImage: "node:24",
      runningImage: "python:3.12",
      restart: { reason: "allocate", from: "containerd://two", at: 1_000 },
    }),
  ],
  [
    // A real kubelet that cannot find the new image keeps the old container's ID, in lastState too.
    "new image missing on a real kubelet",
    (() => {
      const pod = full({
        sandboxImage: "missing:1",
        runningImage: "python:3.12",
        waiting: { reason: "ErrImageNeverPull", message: "not present" },
        restart: { reason: "allocate", from: "containerd://two", at: 1_000 },
      })
      const status = pod.status!.containerStatuses![1]!
      pod.status!.containerStatuses![1] = {
        ...status,
        lastState: { terminated: { exitCode: 0, reason: "Completed", containerID: "containerd://two" } },
      }
      return pod
    })(),
  ],
  ["no volumes", full({ volumes: false })],
  ["no status yet", { ...full(), status: {} }],
]

describe("CachedPod.project", () => {
  for (const [name, pod] of variants) {
    const cached = CachedPod.project(pod)
    it(`every reader answers the same on the projection: ${name}`, () => {
      assert.deepStrictEqual(SandboxPod.read(cached), SandboxPod.read(pod))
      const sandbox = SandboxPod.sandboxContainer(pod)
      const cachedSandbox = SandboxPod.sandboxContainer(cached)
      assert.strictEqual(cachedSandbox?.name, sandbox?.name)
      assert.deepStrictEqual(cachedSandbox?.resources, sandbox?.resources)
      for (const container of ["sandbox", "sidecar"]) {
        assert.deepStrictEqual(
          ImageStatus.judge(cached, container, "x"),
          ImageStatus.judge(pod, container, "x"),
        )
        assert.strictEqual(
          ImageStatus.othersOnSpecImage(cached, container),
          ImageStatus.othersOnSpecImage(pod, container),
        )
      }
      assert.deepStrictEqual(Recycle.writableVolumes(cached), Recycle.writableVolumes(pod))
      assert.deepStrictEqual(Recycle.sidecars(cached), Recycle.sidecars(pod))
      assert.deepStrictEqual(Recycle.sharedNamespaces(cached), Recycle.sharedNamespaces(pod))
      for (const pool of [
        { name: "pool", uid: "pu" },
        { name: "pool", uid: "other" },
      ]) {
        assert.strictEqual(PodOwner.isOwnedBy(cached, pool), PodOwner.isOwnedBy(pod, pool))
      }
      assert.isTrue(PodOwner.isOwnedBy(cached, { name: "pool", uid: "pu" }))
      for (const policy of [
        { type: "InPlace" as const, acceptPodStateCarryOver: false },
        { type: "InPlace" as const, acceptPodStateCarryOver: true, maxReuses: 2 },
      ]) {
        for (const t of [target, other, undefined]) {
          for (const agentOnNode of [true, false]) {
            assert.deepStrictEqual(
              Recycle.decide({ pod: cached, policy, target: t, now: 5_000, agentOnNode }),
              Recycle.decide({ pod, policy, target: t, now: 5_000, agentOnNode }),
            )
          }
        }
      }
      for (const t of [target, other]) {
        assert.deepStrictEqual(
          Recycle.nextSandboxImage(cached, t.poolImage),
          Recycle.nextSandboxImage(pod, t.poolImage),
        )
        assert.deepStrictEqual(PodUpdate.imageChanges(cached, t), PodUpdate.imageChanges(pod, t))
        assert.deepStrictEqual(PodUpdate.updatePatch(cached, t, 5_000), PodUpdate.updatePatch(pod, t, 5_000))
      }
      assert.strictEqual(PodUpdate.runningContainerId(cached), PodUpdate.runningContainerId(pod))
      assert.strictEqual(SandboxPod.poolKeyOf(cached), SandboxPod.poolKeyOf(pod))
    })
  }

  it("keeps the sandbox container's resources (the E2B API's sizes) and drops what nobody reads", () => {
    const cached = CachedPod.project(full())
    assert.deepStrictEqual(SandboxPod.sandboxContainer(cached)?.resources, {
      limits: { cpu: "2", memory: "1Gi" },
      requests: { "ephemeral-storage": "5Gi" },
    })
    // Only the controller reference, which says which pool the Pod is (PodOwner).
    assert.deepStrictEqual(
      cached.metadata?.ownerReferences?.map((o) => o.kind),
      ["SandboxPool"],
    )
    // The node is read now: the E2B data plane routes to its node agent.
    assert.strictEqual(cached.spec?.nodeName, "node-1")
    assert.isUndefined(cached.status?.podIP)
    assert.deepStrictEqual(cached.status?.conditions, [{ type: "Ready", status: "True" }])
    assert.deepStrictEqual(cached.spec?.volumes?.[3], { name: "token", projected: {} } as never)
    assert.isBelow(JSON.stringify(cached).length, JSON.stringify(full()).length * 0.7)
  })
})
