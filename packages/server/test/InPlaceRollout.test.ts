import { SandboxPod } from "@agent-sandbox/operator/internal"
import { PodEvents, TestCluster } from "@agent-sandbox/testing"
import { InPlace, OperatorNamespaces, PodAudit, PoolStatus } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"

// Template changes reaching a pool's idle Pods: image-only changes in place (no Pod created or
// deleted, maxUnavailable at a time, judged from the Pods' own status), anything else by new Pods.

const uidsOf = (pods: ReadonlyArray<{ metadata?: { uid?: string } }>) =>
  new Set(pods.map((p) => p.metadata?.uid ?? ""))

/** The pool's update revision, once its status has one. */
const revisionOf = (namespace: string, pool: string) =>
  Effect.gen(function* () {
    let revision = ""
    yield* PoolStatus.awaitPoolStatus(namespace, pool, (s) => {
      revision = s.updateRevision ?? ""
      return revision !== ""
    })
    return revision
  })

/** Records the namespace's Pod events, and the most idle Pods ever seen updating to `image` at once. */
const watchUpdates = (namespace: string, image: string) =>
  Effect.gen(function* () {
    const peak = { updating: 0 }
    const events = yield* PodEvents.record(namespace, (state) => {
      let updating = 0
      for (const pod of state.pods.values()) if (InPlace.updatingTo(pod, image)) updating++
      peak.updating = Math.max(peak.updating, updating)
    })
    return { events, peak }
  })

layer(TestCluster.layer, { timeout: "300 seconds", excludeTestServices: true })("in-place rollouts", (it) => {
  it.scoped(
    "rolls an image change across 50 idle Pods in place, at most maxUnavailable at a time, the same Pods",
    () =>
      Effect.gen(function* () {
        const { namespace, system } = yield* OperatorNamespaces.make("rollout")
        const slow = InPlace.delays({ imageChange: "400ms" })
        yield* InPlace.createPool(namespace, "fifty", {
          // KWOK has no node agent: recycling in place here needs the opt-in.
          recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
          replicas: 50,
          updateStrategy: { type: "InPlace", maxUnavailable: 5 },
          template: InPlace.template({ image: "busybox:1.36", annotations: slow }),
        })
        yield* InPlace.runOperator(namespace, system, "rollout-a")
        const before = yield* InPlace.claimableOn(namespace, "fifty", 50, "busybox:1.36")
        const { events, peak } = yield* watchUpdates(namespace, "busybox:1.37")

        yield* InPlace.setTemplate(
          namespace,
          "fifty",
          InPlace.template({ image: "busybox:1.37", annotations: slow }),
        )
        const after = yield* InPlace.claimableOn(namespace, "fifty", 50, "busybox:1.37")
        yield* PoolStatus.awaitPoolStatus(
          namespace,
          "fifty",
          (s) => s.updatedReplicas === 50 && s.currentRevision === s.updateRevision && s.idleReplicas === 50,
        )

        assert.deepStrictEqual(uidsOf(after.pods), uidsOf(before.pods), "the very same Pods")
        assert.strictEqual(events.created.size, 0, "no Pod created")
        assert.strictEqual(events.deleted.size, 0, "no Pod deleted")
        assert.isAtMost(peak.updating, 5, "never more than maxUnavailable updating at once")
        assert.isAtLeast(peak.updating, 1)
        for (const pod of after.pods) {
          const status = pod.status?.containerStatuses?.find((s) => s.name === "sandbox")
          assert.strictEqual(status?.image, "busybox:1.37")
          assert.strictEqual(status?.restartCount, 1, "restarted in place once")
        }
      }),
  )

  it.scoped("recreates Pods for a change beyond images, keeping the warm target Ready throughout", () =>
    Effect.gen(function* () {
      const { namespace, system } = yield* OperatorNamespaces.make("recreate")
      yield* InPlace.createPool(namespace, "ten", {
        // KWOK has no node agent: recycling in place here needs the opt-in.
        recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
        replicas: 10,
        updateStrategy: { type: "InPlace", maxUnavailable: 3 },
        template: InPlace.template({
          image: "busybox:1.36",
          annotations: InPlace.delays({ ready: "300ms" }),
        }),
      })
      yield* InPlace.runOperator(namespace, system, "recreate-a")
      const before = yield* InPlace.claimableOn(namespace, "ten", 10, "busybox:1.36")
      const lowest = { ready: 10 }
      const events = yield* PodEvents.record(namespace, (state) => {
        let ready = 0
        for (const pod of state.pods.values()) {
          const view = SandboxPod.read(pod)
          if (view !== undefined && SandboxPod.isClaimable(view)) ready++
        }
        lowest.ready = Math.min(lowest.ready, ready)
      })

      const changed = InPlace.template({
        image: "busybox:1.36",
        annotations: InPlace.delays({ ready: "300ms" }),
        container: { env: [{ name: "MODE", value: "strict" }] },
      })
      const old = yield* revisionOf(namespace, "ten")
      yield* InPlace.setTemplate(namespace, "ten", changed)
      yield* PoolStatus.awaitPoolStatus(
        namespace,
        "ten",
        (s) =>
          s.updateRevision !== old && s.updatedReplicas === 10 && s.replicas === 10 && s.idleReplicas === 10,
      )
      const after = yield* InPlace.claimableOn(namespace, "ten", 10, "busybox:1.36")

      const oldUids = uidsOf(before.pods)
      assert.isFalse(
        after.pods.some((p) => oldUids.has(p.metadata?.uid ?? "")),
        "every Pod replaced",
      )
      for (const pod of after.pods) {
        assert.deepStrictEqual(SandboxPod.sandboxContainer(pod)?.env, [{ name: "MODE", value: "strict" }])
      }
      assert.strictEqual(events.created.size, 10)
      assert.strictEqual(events.deleted.size, 10)
      assert.strictEqual(lowest.ready, 10, "never fewer Ready idle Pods than the target")
    }),
  )

  it.scoped("resumes a rollout after its operator stops half-way, never over maxUnavailable", () =>
    Effect.gen(function* () {
      const { namespace, system } = yield* OperatorNamespaces.make("rollout-crash")
      const slow = InPlace.delays({ imageChange: "1500ms" })
      yield* InPlace.createPool(namespace, "twelve", {
        // KWOK has no node agent: recycling in place here needs the opt-in.
        recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
        replicas: 12,
        updateStrategy: { type: "InPlace", maxUnavailable: 2 },
        template: InPlace.template({ image: "busybox:1.36", annotations: slow }),
      })
      const first = yield* Scope.make()
      yield* InPlace.runOperator(namespace, system, "crash-a").pipe(Scope.extend(first))
      const before = yield* InPlace.claimableOn(namespace, "twelve", 12, "busybox:1.36")
      const { events, peak } = yield* watchUpdates(namespace, "busybox:1.37")

      const old = yield* revisionOf(namespace, "twelve")
      yield* InPlace.setTemplate(
        namespace,
        "twelve",
        InPlace.template({ image: "busybox:1.37", annotations: slow }),
      )
      // Stop the operator once the rollout has begun and before it is through.
      yield* PoolStatus.awaitPoolStatus(
        namespace,
        "twelve",
        (s) => s.updateRevision !== old && (s.updatedReplicas ?? 0) >= 2,
      )
      yield* Scope.close(first, Exit.void)
      const midway = yield* PodAudit.audit(namespace, "twelve")
      const updatedMidway = midway.pods.filter((p) => SandboxPod.read(p)?.image === "busybox:1.37").length
      assert.isBelow(updatedMidway, 12, "stopped before the end")

      // Another replica takes over from what the Pods say.
      yield* InPlace.runOperator(namespace, system, "crash-b")
      const after = yield* InPlace.claimableOn(namespace, "twelve", 12, "busybox:1.37")
      yield* PoolStatus.awaitPoolStatus(
        namespace,
        "twelve",
        (s) => s.updatedReplicas === 12 && s.idleReplicas === 12,
      )
      assert.deepStrictEqual(uidsOf(after.pods), uidsOf(before.pods))
      assert.strictEqual(events.created.size, 0)
      assert.strictEqual(events.deleted.size, 0)
      assert.isAtMost(peak.updating, 2)
    }),
  )
})
