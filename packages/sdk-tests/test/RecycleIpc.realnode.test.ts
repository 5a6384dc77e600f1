/**
 * What a recycle leaves of a tenant for the next one, measured on real containers (kubelet +
 * containerd + runc on this machine). An in-place recycle restarts only the sandbox container,
 * while `/dev/shm` and the IPC namespace belong to the Pod (its pause container): tenant 1 leaves a
 * file in /dev/shm and SysV shared memory, a message queue and a semaphore set, and tenant 2 of the
 * very same Pod finds all four. That is what docs/security.md states and why a pool that must not
 * pass them on sets `recyclePolicy.type: Delete`: then tenant 2 gets a new Pod and finds nothing.
 * A pool whose sandbox writes an emptyDir is never recycled in place (Recycle.decide).
 */
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { RealNode } from "@agent-sandbox/testing"
import { Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import * as Sdk from "e2b"
import { Effect, Layer } from "effect"
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

const env = Layer.scopedDiscard(
  Effect.flatMap(SdkServer.SdkServer, (server) =>
    SdkServer.useSdkEnvironment(SdkServer.sdkEnvironment(server, server.keys.tenantA)),
  ),
).pipe(
  Layer.provideMerge(SdkServer.layer("recycle-ipc", soloPool(), 120_000)),
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
    it.effect("in place, the same Pod keeps /dev/shm and SysV IPC for the next tenant (documented)", () =>
      Effect.gen(function* () {
        const { left, seen, samePod, node } = yield* twoTenants("base", leave + look, look)
        assert.match(left, everything, left)
        assert.isTrue(samePod, "recycled in place")
        assert.strictEqual(node, RealNode.nodeName)
        // The Pod's IPC namespace and /dev/shm outlive the container restart: all four are still there.
        assert.strictEqual(seen, left)
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
  },
)
