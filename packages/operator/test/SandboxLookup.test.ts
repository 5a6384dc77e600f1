import { SandboxPool, type SandboxTemplateSpec } from "@agent-sandbox/domain"
import { KubeClient, KubeConfig, Patch, ResourceType, RetryOnConflict } from "@agent-sandbox/kube"
import { TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Effect, Either, Layer, Option, Schema } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as SandboxLookup from "../src/allocation/SandboxLookup.ts"
import type { ClusterStateShape } from "../src/cluster/ClusterState.ts"
import { SandboxPoolResource } from "../src/cluster/SandboxResources.ts"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as PodOwner from "../src/sandbox/PodOwner.ts"
import * as SandboxId from "../src/sandbox/SandboxId.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"
import { installCrds } from "./support/Crds.ts"

const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)

/**
 * A replica whose watch has not shown anything yet (another replica's claim is still on its way):
 * only the lookup's own API-server fallback can find the sandbox.
 */
const laggingCache = (namespace: string, pool: PodOwner.KnownPool): ClusterStateShape =>
  ({
    namespace,
    podOfSandbox: () => Effect.succeed(Option.none<Pod>()),
    isPoolsOwn: (pod: Pod) => PodOwner.isOwnedBy(pod, pool),
  }) as unknown as ClusterStateShape

layer(cluster, { timeout: "60 seconds", excludeTestServices: true })(
  "SandboxLookup against the API server",
  (it) => {
    it.scoped(
      "finds a sandbox another replica just claimed, for its tenant only, when the cache has not seen it",
      () =>
        Effect.gen(function* () {
          const client = yield* KubeClient.KubeClient
          yield* installCrds
          const namespace = yield* TestNamespace.make("lookup")
          const template: SandboxTemplateSpec = {
            podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox" }] } },
            runtimes: [],
          }
          const pool = yield* client.create(
            SandboxPoolResource,
            Schema.decodeUnknownSync(SandboxPool)({
              apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
              kind: "SandboxPool",
              metadata: { name: "p", namespace },
              spec: { replicas: 0, template },
            }),
            { namespace },
          )
          const uid = pool.metadata.uid ?? ""
          const created = yield* client.create(
            ResourceType.Pod,
            PodFactory.build({
              pool: { name: "p", namespace, uid },
              template,
              useIdleImage: false,
              name: PodFactory.podName("p"),
            }),
            { namespace },
          )
          const sandboxId = SandboxId.mint()
          // The other replica's claim: the same one conditional write the allocator makes (again on a
          // fresh read if KWOK's status update got in first).
          const name = created.metadata?.name ?? ""
          yield* RetryOnConflict.retryOnConflict(
            client.get(ResourceType.Pod, name, { namespace }),
            (current) =>
              client.patch(
                ResourceType.Pod,
                name,
                Patch.merge(
                  SandboxPod.claimPatch({
                    resourceVersion: current.metadata?.resourceVersion ?? "",
                    sandboxId,
                    tenant: "alice",
                    now: Date.now(),
                    timeoutSeconds: 60,
                    metadata: {},
                  }),
                ),
                { namespace },
              ),
            { seen: created },
          )
          const lookup = SandboxLookup.make(laggingCache(namespace, { name: "p", uid }), client)
          const found = yield* lookup.find({ tenant: "alice", admin: false }, sandboxId)
          assert.strictEqual(found[0].sandboxId, sandboxId)
          assert.strictEqual(found[1].metadata?.name, created.metadata?.name)
          const other = yield* Effect.either(lookup.find({ tenant: "bob", admin: false }, sandboxId))
          assert.isTrue(Either.isLeft(other) && other.left._tag === "SandboxNotFound")
          const unknown = yield* Effect.either(
            lookup.find({ tenant: "alice", admin: true }, SandboxId.mint()),
          )
          assert.isTrue(Either.isLeft(unknown))
        }),
    )
  },
)
