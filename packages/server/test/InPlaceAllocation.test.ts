import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { SandboxPod } from "@agent-sandbox/operator/internal"
import { Eventually, Http, TestCluster } from "@agent-sandbox/testing"
import { InPlace, OperatorHarness, OperatorNamespaces, PodAudit } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"

// Any image or runtime per request: the claim's one write swaps the warm Pod's sandbox image in
// place, and the answer comes once the Pod's own status says it runs that image and is Ready.

class Env extends Context.Tag("InPlaceAllocationEnv")<
  Env,
  { readonly namespace: string; readonly api: string; readonly key: string }
>() {}

const env = Layer.scoped(
  Env,
  Effect.gen(function* () {
    const { namespace, system } = yield* OperatorNamespaces.make("any-image")
    yield* InPlace.createPool(namespace, "py", {
      // KWOK has no node agent: recycling in place here needs the opt-in.
      recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
      replicas: 3,
      template: InPlace.template({
        image: "busybox:1.36",
        annotations: InPlace.delays({ imageChange: "300ms" }),
        runtimes: [
          { name: "python", image: "python:3.12-slim", env: [{ name: "PYTHONUNBUFFERED", value: "1" }] },
          { name: "node", image: "node:22-slim", port: 3000 },
        ],
        // Requests may name these images outright (issue 13: nothing else).
        allowedImages: ["ghcr.io/example/", "node", "registry.example/"],
      }),
    })
    // Image switches that take longer than the pool waits for them.
    // A failed image switch ends the sandbox; its warm target above maxPods, a release never
    // finds it full, so the Pod is recycled rather than deleted as surplus.
    yield* InPlace.createPool(namespace, "broken", {
      // KWOK has no node agent: recycling in place here needs the opt-in.
      recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
      replicas: 2,
      maxPods: 1,
      template: InPlace.template({
        image: "busybox:1.36",
        annotations: InPlace.delays({ imageChange: "300ms" }),
        allowedImages: ["registry.example/"],
      }),
    })
    yield* InPlace.createPool(namespace, "slow", {
      // KWOK has no node agent: recycling in place here needs the opt-in.
      recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
      replicas: 1,
      sandbox: { startupTimeoutSeconds: 1 },
      template: InPlace.template({
        image: "busybox:1.36",
        annotations: InPlace.delays({ imageChange: "20s" }),
        allowedImages: ["example.com/"],
      }),
    })
    // Idle Pods wait on a small idle image; every sandbox switches to the template's. At maxPods
    // it refills nothing while a sandbox runs, so a release never finds it at its warm target
    // (which would delete the Pod as surplus instead of recycling it).
    yield* InPlace.createPool(namespace, "lean", {
      // KWOK has no node agent: recycling in place here needs the opt-in.
      recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
      replicas: 2,
      maxPods: 2,
      useIdleImage: true,
      template: InPlace.template({
        image: "busybox:1.36",
        idleImage: "pause:3.10",
        annotations: InPlace.delays({ imageChange: "200ms" }),
      }),
    })
    const operator = yield* InPlace.runOperator(namespace, system, "any-image-a")
    const key = yield* OperatorHarness.mintKey(system, "team-a")
    yield* Eventually.eventually(
      Effect.flatMap(Http.call(`${operator.apiUrl}/v1/pools`, { key }), (r) =>
        r.status === 200 ? Effect.void : Effect.fail(r),
      ),
    )
    yield* InPlace.claimableOn(namespace, "py", 3, "busybox:1.36")
    yield* InPlace.claimableOn(namespace, "broken", 1, "busybox:1.36")
    yield* InPlace.claimableOn(namespace, "slow", 1, "busybox:1.36")
    yield* InPlace.claimableOn(namespace, "lean", 2, "pause:3.10")
    return { namespace, api: operator.apiUrl, key }
  }),
).pipe(Layer.provideMerge(TestCluster.layer))

/** Allocated Pods not on their way out. */
const held = (audit: PodAudit.PodAudit) =>
  audit.pods.filter((pod) => {
    const view = SandboxPod.read(pod)
    return view?.state === "allocated" && !view.deleting
  }).length

const sandboxStatus = (pod: Pod) => pod.status?.containerStatuses?.find((s) => s.name === "sandbox")

/** No Pod of the pool carries the sandbox, and every Pod's record is cleanly idle or allocated. */
const noTraceOf = (namespace: string, pool: string, sandboxId: string) =>
  Eventually.eventually(
    Effect.flatMap(PodAudit.audit(namespace, pool), (a) =>
      [...a.allocated.values()].includes(sandboxId) || a.inconsistent.length > 0
        ? Effect.fail(
            `sandbox ${sandboxId} still on a Pod, or a record half-written: ${JSON.stringify(
              a.pods.map((p) => ({
                name: p.metadata?.name,
                labels: p.metadata?.labels,
                restart: p.metadata?.annotations?.[SandboxPod.Annotation.restart],
                deleting: p.metadata?.deletionTimestamp,
                status: p.status?.containerStatuses?.[0],
                ready: p.status?.conditions?.find((c) => c.type === "Ready")?.status,
              })),
            )}`,
          )
        : Effect.void,
    ),
    { timeout: "30 seconds", interval: "200 millis" },
  )

layer(env, { timeout: "180 seconds", excludeTestServices: true })("any image per request", (it) => {
  it.effect("serves a named image: the Pod runs it, Ready, restarted in place", () =>
    Effect.gen(function* () {
      const { namespace, api, key } = yield* Env
      const created = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key,
        body: { pool: "py", image: "ghcr.io/example/agent:2" },
      })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      assert.strictEqual(created.body.image, "ghcr.io/example/agent:2")
      assert.isTrue(created.body.ready)
      const client = yield* KubeClient.KubeClient
      const pod = yield* client.get(ResourceType.Pod, created.body.pod, { namespace })
      assert.strictEqual(SandboxPod.sandboxContainer(pod)?.image, "ghcr.io/example/agent:2")
      const status = sandboxStatus(pod)
      assert.strictEqual(status?.image, "ghcr.io/example/agent:2")
      assert.isTrue(status?.ready)
      assert.strictEqual(status?.restartCount, 1, "the warm Pod's container restarted on the new image")
      assert.isTrue(pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
    }),
  )

  it.effect("serves a runtime by name; an unknown one, or both a runtime and an image, is a 400", () =>
    Effect.gen(function* () {
      const { namespace, api, key } = yield* Env
      const created = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key,
        body: { pool: "py", runtime: "python" },
      })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      assert.strictEqual(created.body.image, "python:3.12-slim")
      assert.strictEqual(created.body.runtime, "python")
      assert.isTrue(created.body.ready)
      const client = yield* KubeClient.KubeClient
      const pod = yield* client.get(ResourceType.Pod, created.body.pod, { namespace })
      assert.strictEqual(sandboxStatus(pod)?.image, "python:3.12-slim")
      // The runtime's env is kept for the data plane (a running Pod's env cannot change).
      assert.deepStrictEqual(
        SandboxPod.parseStrings(pod.metadata?.annotations?.[SandboxPod.Annotation.runtimeEnv]),
        { PYTHONUNBUFFERED: "1" },
      )

      const unknown = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key,
        body: { pool: "py", runtime: "ruby" },
      })
      assert.strictEqual(unknown.status, 400)
      assert.include(unknown.body.message, "python, node")
      const both = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key,
        body: { pool: "py", runtime: "node", image: "node:22" },
      })
      assert.strictEqual(both.status, 400)
    }),
  )

  it.effect(
    "useIdleImage: idle Pods sit on the idle image; a sandbox runs the template's, then goes back",
    () =>
      Effect.gen(function* () {
        const { namespace, api, key } = yield* Env
        const created = yield* Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "lean" },
        })
        assert.strictEqual(created.status, 201, JSON.stringify(created.body))
        assert.strictEqual(created.body.image, "busybox:1.36")
        assert.isTrue(created.body.ready)
        const released = yield* Http.call(`${api}/v1/sandboxes/${created.body.id}`, { method: "DELETE", key })
        assert.strictEqual(released.status, 204)
        // The same Pod, idle again on the idle image.
        yield* Eventually.eventually(
          Effect.flatMap(PodAudit.audit(namespace, "lean"), (a) => {
            const back = a.claimable.find((p) => p.metadata?.name === created.body.pod)
            return back !== undefined && SandboxPod.read(back)?.image === "pause:3.10"
              ? Effect.void
              : Effect.fail("not back on the idle image")
          }),
          { timeout: "30 seconds", interval: "100 millis" },
        )
        yield* InPlace.claimableOn(namespace, "lean", 2, "pause:3.10")
      }),
  )

  it.effect("with wait: false answers at once, not ready; GET tells when it is", () =>
    Effect.gen(function* () {
      const { api, key } = yield* Env
      const created = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key,
        body: { pool: "py", runtime: "node", wait: false },
      })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      assert.isFalse(created.body.ready)
      assert.strictEqual(created.body.image, "node:22-slim")
      const ready = yield* Eventually.eventually(
        Effect.flatMap(Http.call(`${api}/v1/sandboxes/${created.body.id}`, { key }), (r) =>
          r.status === 200 && r.body.ready === true ? Effect.succeed(r.body) : Effect.fail(r.body),
        ),
        { timeout: "30 seconds", interval: "100 millis" },
      )
      assert.strictEqual(ready.pod, created.body.pod)
    }),
  )

  it.effect("a failing image is a clear 422; the sandbox is ended and its Pod recycled", () =>
    Effect.gen(function* () {
      const { namespace, api, key } = yield* Env
      const before = yield* PodAudit.audit(namespace, "broken")
      const failed = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key,
        body: { pool: "broken", image: "registry.example/missing:fail" },
      })
      assert.strictEqual(failed.status, 422, JSON.stringify(failed.body))
      assert.strictEqual(failed.body._tag, "SandboxImageFailed")
      assert.strictEqual(failed.body.reason, "ErrImagePull")
      assert.strictEqual(failed.body.image, "registry.example/missing:fail")
      const list = yield* Http.call(`${api}/v1/sandboxes?pool=broken`, { key })
      assert.deepStrictEqual(list.body.items, [])
      // Back to the pool image, and idle again: the same Pod, not a new one.
      const a = yield* PodAudit.audit(namespace, "broken")
      assert.strictEqual(a.inconsistent.length, 0)
      assert.deepStrictEqual(
        a.idle.map((p) => [p.metadata?.name, SandboxPod.sandboxContainer(p)?.image]),
        before.claimable.map((p) => [p.metadata?.name, "busybox:1.36"]),
      )
      assert.strictEqual(a.pods.length, 1)
    }),
  )

  it.effect("an image not Ready within startupTimeoutSeconds is a 504, and nothing stays allocated", () =>
    Effect.gen(function* () {
      const { namespace, api, key } = yield* Env
      const before = yield* PodAudit.audit(namespace, "slow")
      const timedOut = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key,
        body: { pool: "slow", image: "example.com/huge:1" },
      })
      assert.strictEqual(timedOut.status, 504, JSON.stringify(timedOut.body))
      assert.strictEqual(timedOut.body._tag, "SandboxStartupTimeout")
      assert.strictEqual(timedOut.body.timeoutSeconds, 1)
      const after = yield* PodAudit.audit(namespace, "slow")
      // Ended in place, or deleted when the pool is full already: a deleting Pod is released.
      assert.strictEqual(held(after), held(before))
      assert.strictEqual(after.inconsistent.length, 0)

      // wait: false: the pool ends the sandbox itself once its startup timeout has passed.
      const unwaited = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key,
        body: { pool: "slow", image: "example.com/huge:1", wait: false },
      })
      assert.strictEqual(unwaited.status, 201, JSON.stringify(unwaited.body))
      yield* noTraceOf(namespace, "slow", unwaited.body.id)
      const gone = yield* Http.call(`${api}/v1/sandboxes/${unwaited.body.id}`, { key })
      assert.strictEqual(gone.status, 404)
    }),
  )
})
