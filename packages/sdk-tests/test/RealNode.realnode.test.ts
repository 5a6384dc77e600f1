/**
 * The sandbox path on real containers: a pool whose Pods run on the real node (kubelet +
 * containerd + runc on this machine, images built here from Debian packages), driven by the E2B
 * JS SDK, unchanged. The same cases as on KWOK, then what only real containers prove: Python
 * runs, a per-request image swap restarts the container in place, a recycle wipes the previous
 * tenant, a missing image fails with the typed error.
 */
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { RealNode } from "@agent-sandbox/testing"
import { PoolStatus, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import * as Sdk from "e2b"
import { Effect, Layer } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as JsSdkCases from "./support/JsSdkCases.ts"
import * as PythonSuite from "./support/PythonSuite.ts"
import * as SdkServer from "./support/SdkServer.ts"

const [python1, python2] = RealNode.images.python
const missingImage = "agent-sandbox.local/missing:1"

/** The pool `base` on the real node: Python image 1, runtime `py` on image 2, runtime `missing`. */
const realNodePool = {
  replicas: 3,
  sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
  template: {
    podTemplate: {
      spec: RealNode.sandboxPodSpec(python1),
    },
    runtimes: [
      { name: "py", image: python2, env: [{ name: "RUNTIME_FLAVOR", value: "py" }] },
      { name: "missing", image: missingImage },
    ],
  },
}

const env = Layer.scopedDiscard(
  Effect.flatMap(SdkServer.SdkServer, (server) =>
    SdkServer.useSdkEnvironment(SdkServer.sdkEnvironment(server, server.keys.tenantA)),
  ),
).pipe(
  // A create may wait for a real container to start (a replacement, a recycle): slower than KWOK's
  // on a busy host, where 30 s was seen to run out (a 503 in the Python SDK suite).
  Layer.provideMerge(SdkServer.layer("realnode", realNodePool, 120_000)),
  // Started first, stopped last: the operator's namespace (and its Pods) goes before the node.
  Layer.provideMerge(RealNode.layerFromEnvironment()),
)

const sandboxIdLabel = "sandbox.agent-sandbox.dev/sandbox-id"

const podOf = (namespace: string, sandboxId: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.list(ResourceType.Pod, { namespace, labelSelector: `${sandboxIdLabel}=${sandboxId}` }),
  ).pipe(Effect.map((list) => list.items[0]))

const poolPods = (namespace: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.list(ResourceType.Pod, { namespace, labelSelector: "sandbox.agent-sandbox.dev/pool=base" }),
  ).pipe(Effect.map((list) => list.items))

const sandboxStatus = (pod: Pod) => pod.status?.containerStatuses?.find((status) => status.name === "sandbox")

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

layer(env, { timeout: "600 seconds", excludeTestServices: true })("the E2B JS SDK on the real node", (it) => {
  it.effect("every Pod of the pool runs on the real node, in a real container", () =>
    Effect.gen(function* () {
      const server = yield* SdkServer.SdkServer
      const node = yield* RealNode.RealNode
      const sandbox = yield* promise(() => Sdk.Sandbox.create("base"))
      try {
        const pod = yield* podOf(server.namespace, sandbox.sandboxId)
        assert.strictEqual(pod?.spec?.nodeName, node.nodeName)
        assert.match(sandboxStatus(pod!)?.containerID ?? "", /^containerd:\/\//)
        const marker = yield* promise(() => sandbox.commands.run("cat /etc/agent-sandbox-image"))
        assert.strictEqual(marker.stdout, "python:1\n")
      } finally {
        yield* promise(() => sandbox.kill())
      }
    }),
  )

  it.effect("Python: create, run python3, write, read and list files, kill", () =>
    Effect.promise(async () => {
      const sandbox = await Sdk.Sandbox.create("base")
      try {
        const version = await sandbox.commands.run(`python3 -c "import sys; print(sys.version_info[:2])"`)
        assert.strictEqual(version.stdout, "(3, 11)\n")
        await sandbox.files.write("/root/work/answer.py", "print(sum(range(10)))\n")
        assert.strictEqual(await sandbox.files.read("/root/work/answer.py"), "print(sum(range(10)))\n")
        assert.deepStrictEqual(
          (await sandbox.files.list("/root/work")).map((entry) => entry.name),
          ["answer.py"],
        )
        const run = await sandbox.commands.run(
          "cd /root/work && python3 answer.py && git --version && pip --version",
        )
        assert.match(run.stdout, /^45\ngit version 2\.\d+.*\npip \d+/)
      } finally {
        assert.isTrue(await sandbox.kill())
      }
      assert.isFalse(await sandbox.isRunning())
    }),
  )

  it.effect(
    "a runtime swaps the image in place: same Pod UID and IP, a new container, Ready on the new image",
    () =>
      Effect.gen(function* () {
        const server = yield* SdkServer.SdkServer
        // Earlier cases killed sandboxes: wait until their replacements are warm, so the Pod
        // claimed below is one of the Pods recorded here, not one created after the list.
        yield* PoolStatus.awaitPoolStatus(
          server.namespace,
          "base",
          (s) => s.idleReplicas === realNodePool.replicas,
        )
        const before = new Map((yield* poolPods(server.namespace)).map((pod) => [pod.metadata?.uid, pod]))
        const sandbox = yield* promise(() => Sdk.Sandbox.create("base:py"))
        try {
          const pod = (yield* podOf(server.namespace, sandbox.sandboxId))!
          const earlier = before.get(pod.metadata?.uid)
          assert.isDefined(earlier, "the claimed Pod was one of the warm Pods")
          assert.strictEqual(pod.status?.podIP, earlier!.status?.podIP)
          const [was, now] = [sandboxStatus(earlier!), sandboxStatus(pod)]
          assert.notStrictEqual(now?.containerID, was?.containerID)
          assert.strictEqual(now?.image, python2)
          assert.isTrue(now?.ready)
          assert.strictEqual(now?.restartCount, (was?.restartCount ?? 0) + 1)
          const run = yield* promise(() =>
            sandbox.commands.run('cat /etc/agent-sandbox-image; printf "%s" "$RUNTIME_FLAVOR"'),
          )
          assert.strictEqual(run.stdout, "python:2\npy")
        } finally {
          yield* promise(() => sandbox.kill())
        }
      }),
  )

  it.effect("a recycle in place leaves nothing of the previous tenant: files, processes, env", () =>
    Effect.gen(function* () {
      const server = yield* SdkServer.SdkServer
      // A pool of one Pod at most: the next claim can only get the same Pod, recycled in place.
      // No node agent in this suite: in place only with the opt-in (RecycleIpc proves the scrub).
      yield* Pools.createPool(server.namespace, "solo", {
        ...realNodePool,
        replicas: 1,
        maxPods: 1,
        recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
      })
      const first = yield* promise(() => Sdk.Sandbox.create("solo", { envs: { SECRET: "first tenant" } }))
      const pod = (yield* podOf(server.namespace, first.sandboxId))!
      yield* promise(async () => {
        await first.files.write("/root/secret.txt", "first tenant's file")
        await first.commands.run("sleep 777", { background: true })
        assert.match((await first.commands.run("ps -eo args")).stdout, /sleep 777/)
        await first.kill()
      })
      const again = yield* promise(() => Sdk.Sandbox.create("solo"))
      try {
        const next = (yield* podOf(server.namespace, again.sandboxId))!
        assert.strictEqual(next.metadata?.uid, pod.metadata?.uid, "the same Pod")
        assert.strictEqual(sandboxStatus(next)?.restartCount, (sandboxStatus(pod)?.restartCount ?? 0) + 1)
        const look = yield* promise(() =>
          again.commands.run('ls /root; ps -eo args | grep -c "sleep 77[7]"; printf "[%s]" "$SECRET"', {}),
        )
        assert.strictEqual(look.stdout, "0\n[]")
      } finally {
        yield* promise(() => again.kill())
      }
    }),
  )

  it.effect(
    "an image that does not exist on the node fails the request with the typed error",
    () =>
      Effect.promise(async () => {
        const failed = await Sdk.Sandbox.create("base:missing").then(
          () => undefined,
          (error: unknown) => error,
        )
        assert.instanceOf(failed, Sdk.SandboxError)
        assert.match(
          String((failed as Error).message),
          /422.*agent-sandbox\.local\/missing:1 cannot run: ErrImageNeverPull/,
        )
      }),
    120_000,
  )

  it.effect("commands (output, exit codes, envs, cwd, stdin, background, kill)", () =>
    Effect.promise(() => JsSdkCases.commands(Sdk)),
  )
  it.effect("the sandbox's envVars in every command", () => Effect.promise(() => JsSdkCases.envVars(Sdk)))
  it.effect("a runtime chosen by the template tag", () => Effect.promise(() => JsSdkCases.runtime(Sdk)))
  it.effect("files (text, binary, 10 MB, list, exists, makeDir, rename, remove, watch)", () =>
    Effect.promise(() => JsSdkCases.files(Sdk)),
  )
  it.effect("a PTY session", () => Effect.promise(() => JsSdkCases.pty(Sdk)))
  it.effect("list, connect, getInfo, setTimeout and expiry, kill", () =>
    Effect.promise(() => JsSdkCases.lifecycle(Sdk)),
  )

  it.effect(
    "the Python SDK's suite, every SDK version",
    () =>
      Effect.gen(function* () {
        const server = yield* SdkServer.SdkServer
        const { missing, report } = yield* PythonSuite.notPassed(
          SdkServer.sdkEnvironment(server, server.keys.tenantA),
        )
        assert.deepStrictEqual(
          missing,
          { "e2b-2.63.0": [], "e2b-2.20.3": [] },
          `pytest cases that did not pass, per SDK version\n${report}`,
        )
      }),
    600_000,
  )
})
