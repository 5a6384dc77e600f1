import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { KubeClient, Patch, ResourceType } from "@agent-sandbox/kube"
import { SandboxPod } from "@agent-sandbox/operator/internal"
import { Eventually, Http, KwokConfig, PodEvents, TestCluster } from "@agent-sandbox/testing"
import { InPlace, OperatorHarness, OperatorNamespaces, PoolStatus } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"

// A released or expired sandbox's Pod goes back to the pool in place: every trace of the sandbox
// taken off it, its container restarted from a fresh filesystem; no Pod created, deleted or
// scheduled. Pods that cannot be wiped that way (writable volumes, policy, too many reuses) are
// replaced instead.

class Env extends Context.Tag("InPlaceRecycleEnv")<
  Env,
  { readonly namespace: string; readonly api: string; readonly key: string }
>() {}

const slow = InPlace.delays({ imageChange: "100ms" })
const carryOver = { type: "InPlace", acceptPodStateCarryOver: true } as const

const env = Layer.scoped(
  Env,
  Effect.gen(function* () {
    const { namespace, system } = yield* OperatorNamespaces.make("recycle")
    // At maxPods the pool creates nothing while sandboxes run: every Pod event is the recycle's.
    // Its warm target is above maxPods: however soon a release follows its claim (before the
    // operator's watch has seen the claim), it never finds the pool at its warm target, which would
    // delete the Pod as surplus instead of recycling it (Recycle.decide). So for "twice".
    // KWOK nodes have no node agent: pools that recycle in place here accept the Pod-level carry-over.
    yield* InPlace.createPool(namespace, "reuse", {
      replicas: 4,
      maxPods: 3,
      recyclePolicy: carryOver,
      template: InPlace.template({
        image: "busybox:1.36",
        annotations: slow,
        allowedImages: ["python:3.12-slim"],
      }),
    })
    yield* InPlace.createPool(namespace, "scratch", {
      replicas: 1,
      maxPods: 1,
      template: InPlace.template({
        image: "busybox:1.36",
        annotations: slow,
        podSpec: { volumes: [{ name: "work", emptyDir: {} }] },
        container: { volumeMounts: [{ name: "work", mountPath: "/work" }] },
      }),
    })
    // The default policy, and no node agent to clear /dev/shm and SysV IPC: a release deletes.
    yield* InPlace.createPool(namespace, "unscrubbed", {
      replicas: 1,
      maxPods: 1,
      template: InPlace.template({ image: "busybox:1.36", annotations: slow }),
    })
    yield* InPlace.createPool(namespace, "fresh", {
      replicas: 1,
      maxPods: 1,
      recyclePolicy: { type: "Delete" },
      template: InPlace.template({ image: "busybox:1.36", annotations: slow }),
    })
    yield* InPlace.createPool(namespace, "twice", {
      replicas: 2,
      maxPods: 1,
      recyclePolicy: { ...carryOver, maxReuses: 1 },
      template: InPlace.template({ image: "busybox:1.36", annotations: slow }),
    })
    // No maxPods: it refills while a sandbox runs, so a release finds it at its warm target.
    yield* InPlace.createPool(namespace, "full", {
      replicas: 2,
      recyclePolicy: carryOver,
      template: InPlace.template({ image: "busybox:1.36", annotations: slow }),
    })
    const operator = yield* InPlace.runOperator(namespace, system, "recycle-a")
    const key = yield* OperatorHarness.mintKey(system, "team-a")
    yield* Eventually.eventually(
      Effect.flatMap(Http.call(`${operator.apiUrl}/v1/pools`, { key }), (r) =>
        r.status === 200 ? Effect.void : Effect.fail(r),
      ),
    )
    yield* InPlace.claimableOn(namespace, "reuse", 3, "busybox:1.36")
    yield* InPlace.claimableOn(namespace, "full", 2, "busybox:1.36")
    for (const pool of ["scratch", "fresh", "twice", "unscrubbed"])
      yield* InPlace.claimableOn(namespace, pool, 1, "busybox:1.36")
    return { namespace, api: operator.apiUrl, key }
  }),
).pipe(Layer.provideMerge(TestCluster.layer))

const kubectl = (args: ReadonlyArray<string>) =>
  Effect.promise(() =>
    promisify(execFile)("/usr/bin/kubectl", [...args], { encoding: "utf8" }).then((r) => r.stdout),
  )

const podOfPool = (events: PodEvents.PodEvents, pool: string) =>
  [...events.created, ...events.deleted].filter((name) => name.startsWith(`${pool}-`))

const allocate = (body: Record<string, unknown>) =>
  Effect.flatMap(Env, ({ api, key }) =>
    Effect.flatMap(Http.call(`${api}/v1/sandboxes`, { method: "POST", key, body }), (r) =>
      r.status === 201 ? Effect.succeed(r.body) : Effect.fail(new Error(JSON.stringify(r.body))),
    ),
  )

const release = (id: string) =>
  Effect.flatMap(Env, ({ api, key }) =>
    Effect.flatMap(Http.call(`${api}/v1/sandboxes/${id}`, { method: "DELETE", key }), (r) =>
      r.status === 204 ? Effect.void : Effect.fail(new Error(`release: ${r.status}`)),
    ),
  )

/** The Pod once it is idle and claimable again (recycled), or undefined once it is gone. */
const backInPool = (namespace: string, name: string) =>
  Eventually.eventually(
    Effect.flatMap(KubeClient.KubeClient, (client) =>
      Effect.either(client.get(ResourceType.Pod, name, { namespace })),
    ).pipe(
      Effect.flatMap((r) => {
        if (r._tag === "Left") return Effect.succeed(undefined)
        const view = SandboxPod.read(r.right)
        return view !== undefined && (view.deleting || SandboxPod.isClaimable(view))
          ? Effect.succeed(view.deleting ? undefined : r.right)
          : Effect.fail(`${name} not back yet`)
      }),
    ),
    { timeout: "30 seconds", interval: "100 millis" },
  )

/** The recording's watch has seen the Pod deleted (it may trail the API calls a little). */
const deletedSeen = (events: PodEvents.PodEvents, name: string) =>
  Eventually.eventually(
    Effect.suspend(() => (events.deleted.has(name) ? Effect.void : Effect.fail(`${name} not seen deleted`))),
  )

const restarts = (pod: Pod) =>
  pod.status?.containerStatuses?.find((s) => s.name === "sandbox")?.restartCount ?? 0

layer(env, { timeout: "180 seconds", excludeTestServices: true })("recycling in place", (it) => {
  it.scoped("20 allocate+release cycles and an expiry: zero Pods created or deleted, each Pod wiped", () =>
    Effect.gen(function* () {
      const { namespace } = yield* Env
      const client = yield* KubeClient.KubeClient
      const events = yield* PodEvents.record(namespace)
      for (let cycle = 0; cycle < 20; cycle++) {
        // Every fourth asks for another image: recycled back to the pool's; the rest stay on it.
        const sandbox = yield* allocate(
          cycle % 4 === 3
            ? { pool: "reuse", image: "python:3.12-slim" }
            : { pool: "reuse", metadata: { cycle: `${cycle}` } },
        )
        const before = yield* client.get(ResourceType.Pod, sandbox.pod, { namespace })
        if (cycle === 0) {
          // A tenant's file, and a front end's annotation (as the E2B API keeps its token digest).
          yield* kubectl([
            "exec",
            "--namespace",
            namespace,
            sandbox.pod,
            "--",
            "sh",
            "-c",
            "echo secret > left-behind",
          ])
          yield* client.patch(
            ResourceType.Pod,
            sandbox.pod,
            Patch.merge({ metadata: { annotations: { "e2b.agent-sandbox.dev/env-vars": '{"TOKEN":"t"}' } } }),
            { namespace },
          )
        }
        yield* release(sandbox.id)
        const after = yield* backInPool(namespace, sandbox.pod)
        assert.isDefined(after, `${sandbox.pod} recycled, not deleted`)
        assert.strictEqual(after?.metadata?.uid, before.metadata?.uid)
        assert.strictEqual(restarts(after!), restarts(before) + 1, "the sandbox container restarted")
        assert.strictEqual(SandboxPod.read(after!)?.image, "busybox:1.36")
        // Keys of the sandbox's domain left: only the template's own (the simulated kubelet's delay).
        const leftovers = Object.keys({ ...after?.metadata?.labels, ...after?.metadata?.annotations }).filter(
          (k) => SandboxPod.isSandboxKey(k) && !(k in slow),
        )
        assert.deepStrictEqual(leftovers, [], "nothing of the sandbox left on the Pod")
        assert.strictEqual(after?.metadata?.annotations?.[KwokConfig.DelayAnnotation.imageChange], "100ms")
        if (cycle === 0) {
          assert.strictEqual(
            yield* kubectl(["exec", "--namespace", namespace, sandbox.pod, "--", "ls", "-A"]),
            "",
          )
        }
      }

      // An expired sandbox is recycled by the pool the same way.
      const short = yield* allocate({ pool: "reuse", timeoutSeconds: 1 })
      const expired = yield* backInPool(namespace, short.pod)
      assert.isDefined(expired)

      assert.deepStrictEqual(podOfPool(events, "reuse"), [], "no Pod of the pool created or deleted")
      const pods = yield* client.list(ResourceType.Pod, {
        namespace,
        labelSelector: `${SandboxPod.Label.pool}=reuse`,
      })
      const reuses = pods.items.reduce((sum, p) => sum + (SandboxPod.read(p)?.reuses ?? 0), 0)
      assert.strictEqual(reuses, 21)
    }),
  )

  it.scoped("replaces a Pod with a writable emptyDir instead of reusing it", () =>
    Effect.gen(function* () {
      const { namespace } = yield* Env
      const events = yield* PodEvents.record(namespace)
      const sandbox = yield* allocate({ pool: "scratch" })
      yield* release(sandbox.id)
      assert.isUndefined(yield* backInPool(namespace, sandbox.pod), "deleted")
      yield* InPlace.claimableOn(namespace, "scratch", 1, "busybox:1.36")
      yield* deletedSeen(events, sandbox.pod)
      // One deleted, one created.
      yield* Eventually.eventually(
        Effect.suspend(() =>
          podOfPool(events, "scratch").length === 2 ? Effect.void : Effect.fail("not yet"),
        ),
      )
    }),
  )

  it.scoped("recyclePolicy Delete deletes; maxReuses recycles that often, then deletes", () =>
    Effect.gen(function* () {
      const { namespace } = yield* Env
      const events = yield* PodEvents.record(namespace)
      const fresh = yield* allocate({ pool: "fresh" })
      yield* release(fresh.id)
      assert.isUndefined(yield* backInPool(namespace, fresh.pod))
      yield* deletedSeen(events, fresh.pod)

      const first = yield* allocate({ pool: "twice" })
      yield* release(first.id)
      assert.isDefined(yield* backInPool(namespace, first.pod), "first release recycles")
      const second = yield* allocate({ pool: "twice" })
      assert.strictEqual(second.pod, first.pod, "the one Pod, reused")
      yield* release(second.id)
      assert.isUndefined(yield* backInPool(namespace, second.pod), "past maxReuses: deleted")
      yield* InPlace.claimableOn(namespace, "twice", 1, "busybox:1.36")
    }),
  )

  it.scoped(
    "no node agent and no opt-in: the default policy deletes (PodState) rather than pass /dev/shm and IPC on",
    () =>
      Effect.gen(function* () {
        const { namespace } = yield* Env
        const events = yield* PodEvents.record(namespace)
        const sandbox = yield* allocate({ pool: "unscrubbed" })
        yield* release(sandbox.id)
        assert.isUndefined(yield* backInPool(namespace, sandbox.pod), "deleted, not recycled in place")
        yield* deletedSeen(events, sandbox.pod)
        const next = yield* allocate({ pool: "unscrubbed" })
        assert.notStrictEqual(next.pod, sandbox.pod, "the next tenant gets a new Pod")
        yield* release(next.id)
      }),
  )

  it.scoped("a release into a pool at its warm target deletes the Pod at once: no recycle, no create", () =>
    Effect.gen(function* () {
      const { namespace } = yield* Env
      const sandbox = yield* allocate({ pool: "full" })
      // The pool refills to its target while the sandbox runs, and the operator has seen it: its
      // status counts what the release compares with the warm target.
      yield* InPlace.claimableOn(namespace, "full", 2, "busybox:1.36")
      yield* PoolStatus.awaitPoolStatus(
        namespace,
        "full",
        (s) => s.idleReplicas === 2 && s.allocatedReplicas === 1,
      )
      let wentIdle = false
      const events = yield* PodEvents.record(namespace, ({ pods }) => {
        const released = pods.get(sandbox.pod)
        if (released !== undefined && SandboxPod.read(released)?.state === "idle") wentIdle = true
      })
      yield* release(sandbox.id)
      assert.isUndefined(yield* backInPool(namespace, sandbox.pod), "deleted")
      yield* deletedSeen(events, sandbox.pod)
      yield* InPlace.claimableOn(namespace, "full", 2, "busybox:1.36")
      assert.isFalse(wentIdle, "never recycled in place before the delete")
      assert.deepStrictEqual(podOfPool(events, "full"), [sandbox.pod], "one Pod deleted, none created")
    }),
  )
})
