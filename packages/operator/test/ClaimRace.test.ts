import { SandboxPool } from "@agent-sandbox/domain"
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { Eventually, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import * as PodStateScrubber from "../src/allocation/PodStateScrubber.ts"
import * as WarmQueue from "../src/allocation/WarmQueue.ts"
import * as WarmQueues from "../src/allocation/WarmQueues.ts"
import * as ClusterState from "../src/cluster/ClusterState.ts"
import { SandboxPoolResource } from "../src/cluster/SandboxResources.ts"
import * as Sandboxes from "../src/Sandboxes.ts"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"
import { installCrds } from "./support/Crds.ts"

const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)
const pods = 100

/**
 * Two allocators that take Pods in the very same order (the same claim-order salt), so nearly
 * every claim races the other's: the API server's resourceVersion check must let exactly one win,
 * and the loser must move on to the next Pod.
 */
const replica = (namespace: string) =>
  Layer.build(
    Sandboxes.layer({ maxWait: "2 seconds", retryAfterSeconds: 1 }).pipe(
      Layer.provideMerge(WarmQueues.layer({ replicaId: "same-salt", waitCapacity: 1_000 })),
      Layer.provideMerge(ClusterState.layer({ namespace })),
      Layer.provideMerge(PodStateScrubber.layerNone),
    ),
  )

layer(cluster, { timeout: "60 seconds", excludeTestServices: true })(
  "claims racing on the same Pods",
  (it) => {
    it.effect(
      `two allocators in the same claim order over ${pods} Pods: each Pod to exactly one caller`,
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            yield* installCrds
            const client = yield* KubeClient.KubeClient
            const namespace = yield* TestNamespace.make("claim-race")
            const pool = yield* client.create(
              SandboxPoolResource,
              Schema.decodeUnknownSync(SandboxPool)({
                apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
                kind: "SandboxPool",
                metadata: { name: "race", namespace },
                spec: {
                  replicas: 0,
                  template: {
                    podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox" }] } },
                  },
                },
              }),
              { namespace },
            )
            // No reconciler here: the test makes the Pods itself, as the leader would.
            yield* Effect.forEach(
              Array.from({ length: pods }),
              () =>
                client.create(
                  ResourceType.Pod,
                  PodFactory.build({
                    pool: { name: "race", namespace, uid: pool.metadata.uid ?? "" },
                    template: pool.spec.template as never,
                    useIdleImage: false,
                    name: PodFactory.podName("race"),
                  }),
                  { namespace },
                ),
              { concurrency: 16, discard: true },
            )
            const replicas = [yield* replica(namespace), yield* replica(namespace)]
            for (const context of replicas) {
              yield* Context.get(context, Sandboxes.Sandboxes).ready
              const queue = yield* Context.get(context, WarmQueues.WarmQueues).of(
                SandboxPod.poolKey(namespace, "race"),
              )
              yield* Eventually.eventually(
                Effect.flatMap(WarmQueue.idleCount(queue), (n) =>
                  n === pods ? Effect.void : Effect.fail(n),
                ),
                { timeout: "60 seconds", interval: "100 millis" },
              )
            }

            const request = { namespace, pool: "race", tenant: "t" }
            const results = yield* Effect.all(
              Array.from({ length: 2 * pods }, (_, i) =>
                Effect.either(Context.get(replicas[i % 2]!, Sandboxes.Sandboxes).allocate(request)).pipe(
                  Effect.map((result) => ({ replica: i % 2, result })),
                ),
              ),
              { concurrency: "unbounded" },
            )
            const won = results.flatMap((r) =>
              r.result._tag === "Right" ? [{ ...r.result.right.sandbox, replica: r.replica }] : [],
            )
            const lost = results.flatMap((r) => (r.result._tag === "Left" ? [r.result.left._tag] : []))
            console.log(
              `[race] replica 0 won ${won.filter((w) => w.replica === 0).length}, replica 1 won ${won.filter((w) => w.replica === 1).length}`,
            )
            assert.strictEqual(won.length, pods)
            assert.deepStrictEqual(new Set(lost), new Set(["CapacityUnavailable"]))
            assert.strictEqual(new Set(won.map((w) => w.name)).size, pods, "a Pod went to two callers")
            assert.strictEqual(new Set(won.map((w) => w.sandboxId)).size, pods)
            // Both raced for every Pod and both won some: the conflicts were real and resolved.
            assert.isAbove(won.filter((w) => w.replica === 0).length, 0)
            assert.isAbove(won.filter((w) => w.replica === 1).length, 0)

            const listed = yield* client.list(ResourceType.Pod, {
              namespace,
              labelSelector: SandboxPod.Label.pool,
            })
            const byName = new Map(listed.items.map((p) => [p.metadata?.name ?? "", SandboxPod.read(p)]))
            for (const w of won) assert.strictEqual(byName.get(w.name)?.sandboxId, w.sandboxId, w.name)
          }),
        ),
      90_000,
    )
  },
)
