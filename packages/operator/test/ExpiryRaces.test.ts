import { SandboxPool, type SandboxTemplateSpec } from "@agent-sandbox/domain"
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { Eventually, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Clock, Context, Effect, Either, Layer, Schema } from "effect"
import * as PodStateScrubber from "../src/allocation/PodStateScrubber.ts"
import * as Recycler from "../src/allocation/Recycler.ts"
import * as WarmQueues from "../src/allocation/WarmQueues.ts"
import * as ClusterState from "../src/cluster/ClusterState.ts"
import { SandboxPoolResource } from "../src/cluster/SandboxResources.ts"
import * as Sandboxes from "../src/Sandboxes.ts"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"
import { installCrds } from "./support/Crds.ts"

const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)

const template: SandboxTemplateSpec = {
  podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox" }] } },
  runtimes: [],
}

/** No pool controller: nothing ends an expired sandbox unless the test does, as the leader would. */
const replica = (namespace: string) =>
  Layer.build(
    Sandboxes.layer({ maxWait: "20 seconds", retryAfterSeconds: 1 }).pipe(
      Layer.provideMerge(WarmQueues.layer({ replicaId: "r", waitCapacity: 100 })),
      Layer.provideMerge(ClusterState.layer({ namespace })),
      Layer.provideMerge(PodStateScrubber.layerNone),
    ),
  )

const tenant = { tenant: "alice", admin: false }

/** Until the clock passes `at` (epoch ms). */
const until = (at: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sleep(Math.max(0, at - now + 50)))

layer(cluster, { timeout: "120 seconds", excludeTestServices: true })("expiry against extend", (it) => {
  it.effect(
    "an expired sandbox is not extended back to life; an extend that lands first keeps an expiry from ending it after the conflict",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          yield* installCrds
          const client = yield* KubeClient.KubeClient
          const namespace = yield* TestNamespace.make("expiry")
          const pool = yield* client.create(
            SandboxPoolResource,
            Schema.decodeUnknownSync(SandboxPool)({
              apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
              kind: "SandboxPool",
              metadata: { name: "e", namespace },
              spec: { replicas: 0, template, recyclePolicy: { type: "Delete" } },
            }),
            { namespace },
          )
          for (let i = 0; i < 2; i++) {
            yield* client.create(
              ResourceType.Pod,
              PodFactory.build({
                pool: { name: "e", namespace, uid: pool.metadata.uid ?? "" },
                template,
                useIdleImage: false,
                name: PodFactory.podName("e"),
              }),
              { namespace },
            )
          }
          const context = yield* replica(namespace)
          const sandboxes = Context.get(context, Sandboxes.Sandboxes)
          yield* sandboxes.ready
          const request = { namespace, pool: "e", tenant: "alice", timeoutSeconds: 1 }

          // 1. Expired, and nobody has ended it yet: an extend does not bring it back.
          const lapsed = yield* sandboxes.allocate(request)
          const lapsedId = lapsed.sandbox.sandboxId ?? ""
          yield* until(lapsed.sandbox.expiresAt ?? 0)
          const revived = yield* Effect.either(sandboxes.extend(tenant, lapsedId, 600))
          assert.isTrue(Either.isLeft(revived) && revived.left._tag === "SandboxNotFound", String(revived))
          const onServer = yield* client.get(ResourceType.Pod, lapsed.sandbox.name, { namespace })
          assert.strictEqual(
            SandboxPod.read(onServer)?.expiresAt,
            lapsed.sandbox.expiresAt,
            "the expiry on the Pod was not moved",
          )

          // 2. The reconciler saw the sandbox about to expire; the tenant extends at the last moment;
          //    the reconciler's end, written on the old version, conflicts and reads again.
          const kept = yield* sandboxes.allocate(request)
          const keptId = kept.sandbox.sandboxId ?? ""
          const seenByReconciler = kept.pod
          const extended = yield* sandboxes.extend(tenant, keptId, 600)
          assert.isAbove(extended.sandbox.expiresAt ?? 0, kept.sandbox.expiresAt ?? 0)
          yield* until(kept.sandbox.expiresAt ?? 0)
          const recycler = yield* Recycler.make.pipe(Effect.provide(context))
          const outcome = yield* recycler.end(seenByReconciler, keptId, SandboxPod.hasExpired)
          assert.strictEqual(outcome._tag, "Kept")
          const still = SandboxPod.read(yield* client.get(ResourceType.Pod, kept.sandbox.name, { namespace }))
          assert.strictEqual(still?.state, "allocated")
          assert.strictEqual(still?.sandboxId, keptId)
          assert.strictEqual((yield* sandboxes.get(tenant, keptId)).sandbox.name, kept.sandbox.name)

          // A release ends it whatever its expiry says.
          yield* sandboxes.release(tenant, keptId)
          yield* Eventually.eventually(
            Effect.flatMap(
              Effect.either(client.get(ResourceType.Pod, kept.sandbox.name, { namespace })),
              (pod) =>
                Either.isLeft(pod) || SandboxPod.read(pod.right)?.sandboxId !== keptId
                  ? Effect.void
                  : Effect.fail("still allocated"),
            ),
            { timeout: "60 seconds" },
          )
        }),
      ),
  )
})
