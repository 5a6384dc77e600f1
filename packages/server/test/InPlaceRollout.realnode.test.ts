import { PodEvents, RealNode, TestCluster } from "@agent-sandbox/testing"
import { InPlace, OperatorNamespaces, PoolStatus } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"

// A template's image change rolled across idle Pods on the real node: the kubelet really restarts
// each container on the new image (built here), maxUnavailable at a time, the Pods themselves stay.

const [python1, python2] = RealNode.images.python

const onRealNode = (image: string) =>
  InPlace.template({
    image,
    container: { imagePullPolicy: "Never" },
    podSpec: { ...RealNode.placement, automountServiceAccountToken: false, terminationGracePeriodSeconds: 5 },
  })

layer(Layer.merge(TestCluster.layer, RealNode.layerFromEnvironment()), {
  timeout: "600 seconds",
  excludeTestServices: true,
})("in-place rollouts on the real node", (it) => {
  it.scoped("rolls an image change across 5 idle Pods in place, one at a time, the same Pods and IPs", () =>
    Effect.gen(function* () {
      const { namespace, system } = yield* OperatorNamespaces.make("rollout-real")
      yield* InPlace.createPool(namespace, "five", {
        replicas: 5,
        updateStrategy: { type: "InPlace", maxUnavailable: 1 },
        template: onRealNode(python1),
      })
      yield* InPlace.runOperator(namespace, system, "rollout-real")
      const before = yield* InPlace.claimableOn(namespace, "five", 5, python1)
      const peak = { updating: 0 }
      const events = yield* PodEvents.record(namespace, (state) => {
        let updating = 0
        for (const pod of state.pods.values()) if (InPlace.updatingTo(pod, python2)) updating++
        peak.updating = Math.max(peak.updating, updating)
      })

      yield* InPlace.setTemplate(namespace, "five", onRealNode(python2))
      const after = yield* InPlace.claimableOn(namespace, "five", 5, python2)
      yield* PoolStatus.awaitPoolStatus(
        namespace,
        "five",
        (s) => s.updatedReplicas === 5 && s.currentRevision === s.updateRevision && s.idleReplicas === 5,
      )

      const byUid = new Map(before.pods.map((pod) => [pod.metadata?.uid, pod]))
      assert.strictEqual(events.created.size, 0, "no Pod created")
      assert.strictEqual(events.deleted.size, 0, "no Pod deleted")
      assert.strictEqual(peak.updating, 1, "one Pod updating at a time")
      for (const pod of after.pods) {
        const earlier = byUid.get(pod.metadata?.uid)
        assert.isDefined(earlier, "the very same Pods")
        assert.strictEqual(pod.spec?.nodeName, RealNode.nodeName)
        assert.strictEqual(pod.status?.podIP, earlier!.status?.podIP)
        const [was, now] = [earlier!, pod].map((p) =>
          p.status?.containerStatuses?.find((s) => s.name === "sandbox"),
        )
        assert.strictEqual(now?.image, python2)
        assert.strictEqual(now?.restartCount, 1, "restarted in place once")
        assert.notStrictEqual(now?.containerID, was?.containerID, "a new container")
      }
    }),
  )
})
