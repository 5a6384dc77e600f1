import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SandboxPool, type SandboxTemplateSpec } from "@agent-sandbox/domain"
import { KubeClient, KubeConfig, ObjectRef, Patch, ResourceType, RetryOnConflict } from "@agent-sandbox/kube"
import { Eventually, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Either, Layer, Option, Schema } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as PodStateScrubber from "../src/allocation/PodStateScrubber.ts"
import * as SandboxLookup from "../src/allocation/SandboxLookup.ts"
import * as WarmQueue from "../src/allocation/WarmQueue.ts"
import * as WarmQueues from "../src/allocation/WarmQueues.ts"
import * as ClusterState from "../src/cluster/ClusterState.ts"
import { SandboxPoolResource } from "../src/cluster/SandboxResources.ts"
import * as Sandboxes from "../src/Sandboxes.ts"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as SandboxId from "../src/sandbox/SandboxId.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"
import { installCrds } from "./support/Crds.ts"

const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)

/** A replica's allocation side (no pool controller: the test makes the Pods, as the leader would). */
const replica = (namespace: string) =>
  Layer.build(
    Sandboxes.layer({ maxWait: "1 second", retryAfterSeconds: 1 }).pipe(
      Layer.provideMerge(WarmQueues.layer({ replicaId: "r", waitCapacity: 100 })),
      Layer.provideMerge(ClusterState.layer({ namespace })),
      Layer.provideMerge(PodStateScrubber.layerNone),
    ),
  )

const template: SandboxTemplateSpec = {
  podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox" }] } },
  runtimes: [],
}

const makePool = (namespace: string, name: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.create(
      SandboxPoolResource,
      Schema.decodeUnknownSync(SandboxPool)({
        apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
        kind: "SandboxPool",
        metadata: { name, namespace },
        spec: { replicas: 0, template },
      }),
      { namespace },
    ),
  )

/** A Pod as the pool controller makes it; `owners` replaces its ownerReferences (a forgery). */
const podOf = (pool: SandboxPool, owners?: NonNullable<NonNullable<Pod["metadata"]>["ownerReferences"]>) => {
  const built = PodFactory.build({
    pool: {
      name: pool.metadata.name ?? "",
      namespace: pool.metadata.namespace ?? "",
      uid: pool.metadata.uid ?? "",
    },
    template,
    useIdleImage: false,
    name: PodFactory.podName(pool.metadata.name ?? ""),
  })
  if (owners === undefined) return built
  const { ownerReferences: _theirs, ...metadata } = built.metadata ?? {}
  return { ...built, metadata: owners.length === 0 ? metadata : { ...metadata, ownerReferences: owners } }
}

/** Writes labels on a Pod (as whoever may label Pods in the namespace could). */
const label = (namespace: string, name: string, labels: Record<string, string>) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    RetryOnConflict.retryOnConflict(
      client.get(ResourceType.Pod, name, { namespace }),
      (current) =>
        client.patch(
          ResourceType.Pod,
          name,
          Patch.merge({ metadata: { resourceVersion: current.metadata?.resourceVersion, labels } }),
          { namespace },
        ),
      {},
    ),
  )

/** Until this replica's cache holds the Pod as `check` wants it (its listeners have run by then). */
const cached = (state: ClusterState.ClusterStateShape, pod: Pod, check: (pod: Pod) => boolean) =>
  Eventually.eventually(
    Effect.suspend(() => {
      const seen = state.pods.store.unsafeGet(ObjectRef.keyOf(pod))
      return seen !== undefined && check(seen) ? Effect.void : Effect.fail("not cached yet")
    }),
    { timeout: "60 seconds", interval: "50 millis" },
  )

const readyIdle = (pod: Pod) => {
  const read = SandboxPod.read(pod)
  return read !== undefined && SandboxPod.isClaimable(read)
}

const tenant = { tenant: "alice", admin: false }

layer(cluster, { timeout: "120 seconds", excludeTestServices: true })("Pods the operator trusts", (it) => {
  it.effect(
    "a forged Pod with a pool's labels never enters its warm queue nor shadows a sandbox; two owned Pods with one id are ambiguous (503)",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          yield* installCrds
          const client = yield* KubeClient.KubeClient
          const namespace = yield* TestNamespace.make("trusted")
          const pool = yield* makePool(namespace, "p")
          const context = yield* replica(namespace)
          const state = Context.get(context, ClusterState.ClusterState)
          const sandboxes = Context.get(context, Sandboxes.Sandboxes)
          const queues = Context.get(context, WarmQueues.WarmQueues)
          yield* sandboxes.ready

          // A forged idle Pod (the pool's labels, no owner) comes first, then the pool's own.
          const forged = yield* client.create(ResourceType.Pod, podOf(pool, []), { namespace })
          yield* cached(state, forged, readyIdle)
          const own = yield* client.create(ResourceType.Pod, podOf(pool), { namespace })
          yield* cached(state, own, readyIdle)
          const queue = yield* queues.of(SandboxPod.poolKey(namespace, "p"))
          assert.strictEqual(yield* WarmQueue.idleCount(queue), 1, "only the pool's own Pod is warm")
          assert.deepStrictEqual(
            (yield* state.podsOfPool(SandboxPod.poolKey(namespace, "p"))).map((p) => p.metadata?.name),
            [own.metadata?.name],
          )

          // The one claim goes to the pool's Pod; nothing is left for a second caller.
          const request = { namespace, pool: "p", tenant: "alice" }
          const first = yield* sandboxes.allocate(request)
          assert.strictEqual(first.sandbox.name, own.metadata?.name)
          const second = yield* Effect.either(sandboxes.allocate(request))
          assert.isTrue(Either.isLeft(second) && second.left._tag === "CapacityUnavailable")
          const sandboxId = first.sandbox.sandboxId ?? ""

          // The forged Pod now claims to hold that very sandbox: lookups still find the real one.
          yield* label(namespace, forged.metadata?.name ?? "", {
            [SandboxPod.Label.state]: "allocated",
            [SandboxPod.Label.sandboxId]: sandboxId,
            [SandboxPod.Label.tenant]: "alice",
          })
          yield* cached(state, forged, (p) => SandboxPod.read(p)?.sandboxId === sandboxId)
          assert.strictEqual((yield* sandboxes.get(tenant, sandboxId)).sandbox.name, own.metadata?.name)
          assert.deepStrictEqual(
            (yield* sandboxes.list(tenant)).map((s) => s.sandbox.name),
            [own.metadata?.name],
          )
          // Its id counts as taken: no claim mints it again.
          assert.isTrue(state.sandboxIdInUse(sandboxId))

          // The fresh read the data plane makes before acting agrees; once released, it refuses.
          const confirmed = yield* sandboxes.confirm(first)
          assert.strictEqual(confirmed.sandbox.name, own.metadata?.name)

          // A second Pod that copies the pool's uid into its ownerReference (whoever can read the pool
          // can) and the id: two Pods of the pool carry it, and neither is used.
          const copied = yield* client.create(ResourceType.Pod, podOf(pool), { namespace })
          yield* label(namespace, copied.metadata?.name ?? "", {
            [SandboxPod.Label.state]: "allocated",
            [SandboxPod.Label.sandboxId]: sandboxId,
            [SandboxPod.Label.tenant]: "alice",
          })
          yield* cached(state, copied, (p) => SandboxPod.read(p)?.sandboxId === sandboxId)
          const ambiguous = yield* Effect.either(sandboxes.get(tenant, sandboxId))
          assert.isTrue(Either.isLeft(ambiguous) && ambiguous.left._tag === "ClusterUnavailable")
          assert.include(Either.isLeft(ambiguous) ? ambiguous.left.message : "", "ambiguous")
          assert.deepStrictEqual(yield* sandboxes.list(tenant), [])
          const released = yield* Effect.either(sandboxes.release(tenant, sandboxId))
          assert.isTrue(Either.isLeft(released) && released.left._tag === "ClusterUnavailable")
          // The API server's answer (a replica whose cache has not seen the id) is ambiguous too.
          const lagging = SandboxLookup.make(
            { ...state, podOfSandbox: () => Effect.succeed(Option.none<Pod>()) },
            client,
          )
          const fromApi = yield* Effect.either(lagging.lookup(sandboxId))
          assert.isTrue(Either.isLeft(fromApi) && fromApi.left._tag === "ClusterUnavailable")

          // Without the copy the sandbox is found again, released, and then refused by the fresh read.
          yield* client.delete(ResourceType.Pod, copied.metadata?.name ?? "", { namespace })
          yield* Eventually.eventually(
            Effect.flatMap(Effect.either(sandboxes.get(tenant, sandboxId)), (found) =>
              Either.isRight(found) ? Effect.void : Effect.fail(found.left),
            ),
            { timeout: "60 seconds", interval: "50 millis" },
          )
          yield* sandboxes.release(tenant, sandboxId)
          const afterRelease = yield* Effect.either(sandboxes.confirm(first))
          assert.isTrue(Either.isLeft(afterRelease) && afterRelease.left._tag === "SandboxNotFound")
        }),
      ),
    120_000,
  )

  it.effect(
    "a cache miss asks the API server only for minted ids, and its failure is 503, never not-found",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          yield* installCrds
          const namespace = yield* TestNamespace.make("lookup-bounds")
          const context = yield* replica(namespace)
          const state = Context.get(context, ClusterState.ClusterState)
          yield* Context.get(context, Sandboxes.Sandboxes).ready
          const missing: ClusterState.ClusterStateShape = {
            ...state,
            podOfSandbox: () => Effect.succeed(Option.none<Pod>()),
          }

          // The same lookups through a client whose API server does not answer.
          const config = yield* KubeConfig.KubeConfig
          const exported = JSON.parse(config.exportConfig()) as {
            clusters: Array<{ cluster: { server: string } }>
          }
          for (const c of exported.clusters) c.cluster.server = "https://127.0.0.1:1"
          const path = join(mkdtempSync(join(tmpdir(), "h13b-kubeconfig-")), "config")
          writeFileSync(path, JSON.stringify(exported))
          const unreachable = yield* KubeClient.make().pipe(Effect.provide(KubeConfig.layerFromFile(path)))
          const down = SandboxLookup.make(missing, unreachable, { apiLookups: 2 })

          // A minted id: the API server is asked, and its failure is ClusterUnavailable (503).
          const minted = yield* Effect.either(down.find(tenant, SandboxId.mint()))
          assert.isTrue(Either.isLeft(minted) && minted.left._tag === "ClusterUnavailable", String(minted))
          // Many at once, with two permits: each still gets its answer, none a 404.
          const many = yield* Effect.all(
            Array.from({ length: 8 }, () => Effect.either(down.lookup(SandboxId.mint()))),
            { concurrency: "unbounded" },
          )
          assert.isTrue(many.every((r) => Either.isLeft(r) && r.left._tag === "ClusterUnavailable"))
          // An id of another form is never looked up: not found without asking.
          const other = yield* Effect.either(down.find(tenant, "not-a-minted-id"))
          assert.isTrue(Either.isLeft(other) && other.left._tag === "SandboxNotFound")

          // With the API server up, a minted id nobody holds is plainly not found.
          const up = SandboxLookup.make(missing, yield* KubeClient.KubeClient)
          const absent = yield* Effect.either(up.find(tenant, SandboxId.mint()))
          assert.isTrue(Either.isLeft(absent) && absent.left._tag === "SandboxNotFound")
        }),
      ),
  )

  it.effect(
    "a deleted pool's warm queue is dropped, and a pool re-created by name does not own the old Pods",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          yield* installCrds
          const client = yield* KubeClient.KubeClient
          const namespace = yield* TestNamespace.make("pool-gone")
          const pool = yield* makePool(namespace, "g")
          const context = yield* replica(namespace)
          const state = Context.get(context, ClusterState.ClusterState)
          const queues = Context.get(context, WarmQueues.WarmQueues)
          yield* Context.get(context, Sandboxes.Sandboxes).ready
          const own = yield* client.create(ResourceType.Pod, podOf(pool), { namespace })
          yield* cached(state, own, readyIdle)
          const key = SandboxPod.poolKey(namespace, "g")
          assert.strictEqual(yield* WarmQueue.idleCount(yield* queues.of(key)), 1)

          yield* client.delete(SandboxPoolResource, "g", { namespace })
          yield* Eventually.eventually(
            Effect.flatMap(queues.all, (all) => (all.has(key) ? Effect.fail("queue kept") : Effect.void)),
            { timeout: "60 seconds", interval: "50 millis" },
          )
          // The same name again: a new uid, so Pods the old one owned (if any linger) are not its own.
          const again = yield* makePool(namespace, "g")
          assert.notStrictEqual(again.metadata.uid, pool.metadata.uid)
          yield* Eventually.eventually(
            Effect.suspend(() =>
              state.pools.store.unsafeGet(key)?.metadata.uid === again.metadata.uid
                ? Effect.void
                : Effect.fail("pool not cached"),
            ),
            { timeout: "60 seconds", interval: "50 millis" },
          )
          const stale = state.pods.store.unsafeGet(ObjectRef.keyOf(own))
          if (stale !== undefined) assert.isFalse(state.isPoolsOwn(stale))
        }),
      ),
  )
})
