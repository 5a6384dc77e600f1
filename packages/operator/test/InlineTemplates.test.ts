import { SandboxPool } from "@agent-sandbox/domain"
import { KubeClient, KubeConfig, ObjectRef, ResourceType } from "@agent-sandbox/kube"
import { Eventually, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import * as PodStateScrubber from "../src/allocation/PodStateScrubber.ts"
import * as WarmQueues from "../src/allocation/WarmQueues.ts"
import * as ClusterState from "../src/cluster/ClusterState.ts"
import { SandboxPoolResource } from "../src/cluster/SandboxResources.ts"
import * as CreateExpectations from "../src/pool/CreateExpectations.ts"
import * as PoolReconciler from "../src/pool/PoolReconciler.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"
import { installCrds } from "./support/Crds.ts"

const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)

const replica = (namespace: string) =>
  Layer.build(
    WarmQueues.layer({ replicaId: "r", waitCapacity: 10 }).pipe(
      Layer.provideMerge(ClusterState.layer({ namespace })),
      Layer.provideMerge(PodStateScrubber.layerNone),
    ),
  )

const poolWith = (namespace: string, name: string, spec: Record<string, unknown>) =>
  Schema.decodeUnknownSync(SandboxPool)({
    apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
    kind: "SandboxPool",
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      template: { podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox" }], ...spec } } },
    },
  })

layer(cluster, { timeout: "90 seconds", excludeTestServices: true })("inline templates", (it) => {
  it.effect(
    "a pool whose inline template asks for a host path and another service account gets no Pods, and says why",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          yield* installCrds
          const client = yield* KubeClient.KubeClient
          const namespace = yield* TestNamespace.make("inline")
          const refused = yield* client.create(
            SandboxPoolResource,
            poolWith(namespace, "refused", {
              serviceAccountName: "deployer",
              volumes: [{ name: "root", hostPath: { path: "/" } }],
            }),
            { namespace },
          )
          const allowed = yield* client.create(SandboxPoolResource, poolWith(namespace, "allowed", {}), {
            namespace,
          })
          const context = yield* replica(namespace)
          const state = Context.get(context, ClusterState.ClusterState)
          yield* state.ready
          const reconciler = yield* PoolReconciler.make({
            replicaId: "r",
            expectations: CreateExpectations.make(),
          }).pipe(Effect.provide(context))

          // Reconciled as the leader would, on the pools as the cache has them.
          const cachedPool = (name: string) =>
            Eventually.eventually(
              Effect.suspend(() => {
                const pool = state.pools.store.unsafeGet(ObjectRef.key(ObjectRef.make(name, namespace)))
                return pool === undefined ? Effect.fail("not cached") : Effect.succeed(pool)
              }),
            )
          yield* reconciler.reconcile(yield* cachedPool("refused"))
          yield* reconciler.reconcile(yield* cachedPool("allowed"))

          const status = (yield* client.get(SandboxPoolResource, "refused", { namespace })).status
          const ready = status?.conditions?.find((c) => c.type === "Ready")
          assert.strictEqual(ready?.status, "False")
          assert.strictEqual(ready?.reason, "TemplateNotAllowed")
          assert.include(ready?.message ?? "", "spec.serviceAccountName")
          assert.include(ready?.message ?? "", "spec.volumes[root]: hostPath")
          const pods = yield* client.list(ResourceType.Pod, {
            namespace,
            labelSelector: SandboxPod.Label.pool,
          })
          const byPool = (pool: string) =>
            pods.items.filter((p) => p.metadata?.labels?.[SandboxPod.Label.pool] === pool).length
          assert.strictEqual(byPool("refused"), 0, "no Pod of the refused template exists")
          assert.strictEqual(byPool("allowed"), 1, "the allowed pool got its Pod")
          assert.isDefined(refused.metadata.uid)
          assert.isDefined(allowed.metadata.uid)
        }),
      ),
  )
})
