/**
 * What a recycle leaves of a tenant for the next one, measured on real containers (kubelet +
 * containerd + runc on this machine). An in-place recycle restarts only the sandbox container,
 * while `/dev/shm` and the IPC namespace belong to the Pod (its pause container): tenant 1 leaves a
 * file in /dev/shm and SysV shared memory, a message queue and a semaphore set. With the node
 * agent on the Pod's node, the operator has the agent clear all four after the restart and before
 * the Pod is offered again: tenant 2 of the very same Pod finds none (docs/security.md,
 * "Recycling"). Without an agent the default policy deletes the Pod instead (PodState), as
 * `recyclePolicy.type: Delete` does: tenant 2 gets a new Pod and finds nothing. A pool whose sandbox
 * writes an emptyDir is never recycled in place (Recycle.decide).
 */
import * as path from "node:path"
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { NodeAgentProcess, RealNode } from "@agent-sandbox/testing"
import { E2bOperator, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import * as Sdk from "e2b"
import { Context, Effect, Layer } from "effect"
import * as SdkServer from "./support/SdkServer.ts"

const [python1] = RealNode.images.python

/** One Pod at most, so a second claim can only get the first tenant's Pod back or its replacement. */
const soloPool = (extra: { readonly recyclePolicy?: object; readonly scratch?: boolean } = {}) => ({
  replicas: 1,
  maxPods: 1,
  ...(extra.recyclePolicy === undefined ? {} : { recyclePolicy: extra.recyclePolicy }),
  sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
  template: {
    podTemplate: {
      spec: RealNode.sandboxPodSpec(
        python1,
        extra.scratch === true
          ? {
              container: { volumeMounts: [{ name: "scratch", mountPath: "/scratch" }] },
              spec: { volumes: [{ name: "scratch", emptyDir: {} }] },
            }
          : {},
      ),
    },
  },
})

class Agent extends Context.Tag("RecycleIpc.realnode/Agent")<Agent, NodeAgentProcess.NodeAgentProcess>() {}

const server = Layer.scoped(
  SdkServer.SdkServer,
  E2bOperator.start({ prefix: "recycle-ipc", pool: soloPool(), nodeAgents: true, maxWaitMillis: 120_000 }),
).pipe(Layer.provideMerge(Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)))

const agent = Layer.scoped(
  Agent,
  Effect.gen(function* () {
    const node = yield* RealNode.RealNode
    const { systemNamespace } = yield* SdkServer.SdkServer
    return yield* NodeAgentProcess.start({
      nodeName: node.nodeName,
      systemNamespace,
      criSocket: node.criSocket,
      logFile: path.join(node.logsDir, "node-agent-recycle.log"),
    })
  }),
)

const env = Layer.scopedDiscard(
  Effect.flatMap(SdkServer.SdkServer, (s) =>
    SdkServer.useSdkEnvironment(SdkServer.sdkEnvironment(s, s.keys.tenantA)),
  ),
).pipe(
  Layer.provideMerge(agent),
  Layer.provideMerge(server),
  // Started first, stopped last: the operator's namespace (and its Pods) goes before the node.
  Layer.provideMerge(RealNode.layerFromEnvironment()),
)

const podOf = (namespace: string, sandboxId: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.list(ResourceType.Pod, {
      namespace,
      labelSelector: `sandbox.agent-sandbox.dev/sandbox-id=${sandboxId}`,
    }),
  ).pipe(Effect.map((list) => list.items[0]))

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

/** The Pod-level shared state a tenant sees: /dev/shm's entries, then SysV objects' keys (util-linux ipcs). */
const look = "ls -A /dev/shm; echo ---; ipcs -m -q -s | awk '$1 ~ /^0x/ {print $1}'"
const leave =
  "echo first > /dev/shm/first-tenant && (ipcmk -M 4096 -p 0600 && ipcmk -Q && ipcmk -S 1) >/dev/null && "

/** Tenant 1 of `pool` runs `script` and is released; tenant 2 runs `then`: its Pod uid and output. */
const twoTenants = (pool: string, script: string, then: string) =>
  Effect.gen(function* () {
    const server = yield* SdkServer.SdkServer
    const first = yield* promise(() => Sdk.Sandbox.create(pool))
    const firstPod = (yield* podOf(server.namespace, first.sandboxId))!
    const left = yield* promise(async () => {
      const run = await first.commands.run(script)
      await first.kill()
      return run.stdout
    })
    const second = yield* promise(() => Sdk.Sandbox.create(pool))
    try {
      const secondPod = (yield* podOf(server.namespace, second.sandboxId))!
      const seen = yield* promise(() => second.commands.run(then))
      return {
        left,
        seen: seen.stdout,
        samePod: secondPod.metadata?.uid === firstPod.metadata?.uid,
        node: secondPod.spec?.nodeName,
      }
    } finally {
      yield* promise(() => second.kill())
    }
  })

/** Three SysV keys after the separator: a segment, a queue, a semaphore set. */
const everything = /^first-tenant\n---\n(0x[0-9a-f]+\n){3}$/

layer(env, { timeout: "600 seconds", excludeTestServices: true })(
  "what a recycle passes on, on the real node",
  (it) => {
    it.effect(
      "in place with the node agent: the same Pod, and none of /dev/shm or SysV IPC left for the next tenant",
      () =>
        Effect.gen(function* () {
          const { left, seen, samePod, node } = yield* twoTenants("base", leave + look, look)
          assert.match(left, everything, left)
          assert.isTrue(samePod, "recycled in place")
          assert.strictEqual(node, RealNode.nodeName)
          // The agent cleared the Pod's IPC namespace and /dev/shm after the restart: nothing is left.
          assert.strictEqual(seen, "---\n")
        }),
    )

    it.effect("recyclePolicy Delete: the next tenant gets a new Pod and finds nothing", () =>
      Effect.gen(function* () {
        const server = yield* SdkServer.SdkServer
        yield* Pools.createPool(server.namespace, "fresh", soloPool({ recyclePolicy: { type: "Delete" } }))
        const { left, seen, samePod } = yield* twoTenants("fresh", leave + look, look)
        assert.match(left, everything, left)
        assert.isFalse(samePod, "a new Pod")
        assert.strictEqual(seen, "---\n")
      }),
    )

    it.effect(
      "a sandbox that mounts an emptyDir is never recycled in place: its files stay with its Pod",
      () =>
        Effect.gen(function* () {
          const server = yield* SdkServer.SdkServer
          yield* Pools.createPool(server.namespace, "scratch", soloPool({ scratch: true }))
          const { left, seen, samePod } = yield* twoTenants(
            "scratch",
            "echo first > /scratch/first-tenant && ls -A /scratch",
            "ls -A /scratch; echo ---",
          )
          assert.strictEqual(left, "first-tenant\n")
          assert.isFalse(samePod, "deleted, not recycled (WritableVolume)")
          assert.strictEqual(seen, "---\n")
        }),
    )

    it.effect(
      "no node agent on the node: the default policy deletes (PodState), the next tenant finds nothing",
      () =>
        Effect.gen(function* () {
          const server = yield* SdkServer.SdkServer
          const nodeAgent = yield* Agent
          yield* Pools.createPool(server.namespace, "unserved", soloPool())
          // Stopped, the agent deletes its Lease: the operator sees no agent serving the node.
          yield* nodeAgent.stop
          const client = yield* KubeClient.KubeClient
          const leases = yield* client.list(ResourceType.Lease, { namespace: server.systemNamespace })
          assert.isFalse(leases.items.some((l) => l.spec?.holderIdentity === RealNode.nodeName))
          const { left, seen, samePod } = yield* twoTenants("unserved", leave + look, look).pipe(
            Effect.ensuring(Effect.orDie(nodeAgent.restart)),
          )
          assert.match(left, everything, left)
          assert.isFalse(samePod, "deleted, not recycled in place")
          assert.strictEqual(seen, "---\n")
        }),
    )
  },
)
