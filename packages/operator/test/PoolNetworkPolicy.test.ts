/**
 * A pool's `spec.network` becomes a NetworkPolicy the operator owns: the pure translation, and on
 * the local control plane the policy appearing, following changes of the pool, going away when
 * the field is removed and with the pool (garbage collection by its owner reference). The local
 * control plane does not enforce NetworkPolicy (no CNI): these are objects on the API server.
 */
import { SandboxPool } from "@agent-sandbox/domain"
import {
  KubeClient,
  KubeConfig,
  KubeError,
  type KubeObject,
  ObjectRef,
  Patch,
  ResourceType,
} from "@agent-sandbox/kube"
import { Eventually, TestNamespace } from "@agent-sandbox/testing"
import { assert, describe, expect, layer, it as pureIt } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import * as PodStateScrubber from "../src/allocation/PodStateScrubber.ts"
import * as WarmQueues from "../src/allocation/WarmQueues.ts"
import * as ClusterState from "../src/cluster/ClusterState.ts"
import { SandboxPoolResource } from "../src/cluster/SandboxResources.ts"
import * as CreateExpectations from "../src/pool/CreateExpectations.ts"
import * as PoolNetworkPolicy from "../src/pool/PoolNetworkPolicy.ts"
import * as PoolReconciler from "../src/pool/PoolReconciler.ts"
import { installCrds } from "./support/Crds.ts"

const poolWith = (network: unknown) =>
  Schema.decodeUnknownSync(SandboxPool)({
    apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
    kind: "SandboxPool",
    metadata: { name: "p", namespace: "ns", uid: "u-1" },
    spec: {
      replicas: 0,
      template: { podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox" }] } } },
      ...(network === undefined ? {} : { network }),
    },
  })

const dns = {
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
}

describe("PoolNetworkPolicy.wanted", () => {
  pureIt("no network, or both directions open: no policy", () => {
    expect(PoolNetworkPolicy.wanted(poolWith(undefined))).toBeUndefined()
    expect(
      PoolNetworkPolicy.wanted(poolWith({ egress: { mode: "Allow" }, ingress: { mode: "Allow" } })),
    ).toBeUndefined()
  })
  pureIt("network: {} denies both ways but DNS, selects the pool's Pods and is owned by the pool", () => {
    const policy = PoolNetworkPolicy.wanted(poolWith({}))
    expect(policy?.metadata?.name).toBe("sandbox-pool-p")
    expect(policy?.metadata?.ownerReferences).toEqual([
      {
        apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
        kind: "SandboxPool",
        name: "p",
        uid: "u-1",
        controller: true,
      },
    ])
    expect(policy?.spec).toEqual({
      podSelector: { matchLabels: { "sandbox.agent-sandbox.dev/pool": "p" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [dns],
    })
  })
  pureIt("an allow-list: DNS (unless turned off) and each destination with its ports", () => {
    const policy = PoolNetworkPolicy.wanted(
      poolWith({
        egress: {
          mode: "AllowList",
          dns: false,
          allow: [
            { cidr: "10.0.0.0/8", except: ["10.96.0.0/12"], ports: [{ port: 443 }] },
            { cidr: "192.0.2.7/32" },
          ],
        },
        ingress: { mode: "Allow" },
      }),
    )
    expect(policy?.spec).toEqual({
      podSelector: { matchLabels: { "sandbox.agent-sandbox.dev/pool": "p" } },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.96.0.0/12"] } }],
          ports: [{ port: 443, protocol: "TCP" }],
        },
        { to: [{ ipBlock: { cidr: "192.0.2.7/32" } }] },
      ],
    })
  })
})

const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)

/** SandboxPools as sent, without the client's own schema check: the API server judges them. */
const RawPool = ResourceType.make<KubeObject.KubeObject>({
  apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
  kind: "SandboxPool",
  plural: "sandboxpools",
  namespaced: true,
})

const replica = (namespace: string) =>
  Layer.build(
    WarmQueues.layer({ replicaId: "r", waitCapacity: 10 }).pipe(
      Layer.provideMerge(ClusterState.layer({ namespace })),
      Layer.provideMerge(PodStateScrubber.layerNone),
    ),
  )

layer(cluster, { timeout: "180 seconds", excludeTestServices: true })("a pool's NetworkPolicy", (it) => {
  it.effect("appears, follows the pool's changes, goes when network is removed and with the pool", () =>
    Effect.scoped(
      Effect.gen(function* () {
        yield* installCrds
        const client = yield* KubeClient.KubeClient
        const namespace = yield* TestNamespace.make("netpol")
        const created = yield* client.create(
          RawPool,
          {
            apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
            kind: "SandboxPool",
            metadata: { name: "isolated", namespace },
            spec: {
              replicas: 0,
              template: { podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox" }] } } },
              network: {
                egress: { mode: "AllowList", allow: [{ cidr: "203.0.113.0/24", ports: [{ port: 443 }] }] },
              },
            },
          } as KubeObject.KubeObject,
          { namespace },
        )
        const context = yield* replica(namespace)
        const state = Context.get(context, ClusterState.ClusterState)
        yield* state.ready
        const reconciler = yield* PoolReconciler.make({
          replicaId: "r",
          expectations: CreateExpectations.make(),
        }).pipe(Effect.provide(context))
        // Reconciled as the leader would, on the pool as the cache has it once it shows `generation`.
        const reconcileAt = (generation: number) =>
          Effect.flatMap(
            Eventually.eventually(
              Effect.suspend(() => {
                const pool = state.pools.store.unsafeGet(ObjectRef.key(ObjectRef.make("isolated", namespace)))
                return pool !== undefined && (pool.metadata.generation ?? 0) >= generation
                  ? Effect.succeed(pool)
                  : Effect.fail("not cached yet")
              }),
            ),
            reconciler.reconcile,
          )
        const policy = client.get(ResourceType.NetworkPolicy, "sandbox-pool-isolated", { namespace })
        const setNetwork = (network: unknown) =>
          client.patch(SandboxPoolResource, "isolated", Patch.merge({ spec: { network } }), { namespace })

        yield* reconcileAt(1)
        const first = yield* policy
        assert.deepStrictEqual(
          first.metadata?.ownerReferences?.map((o) => [o.kind, o.uid, o.controller]),
          [["SandboxPool", created.metadata?.uid, true]],
        )
        assert.deepStrictEqual(first.spec?.policyTypes, ["Ingress", "Egress"])
        assert.deepStrictEqual(first.spec?.egress?.[1], {
          to: [{ ipBlock: { cidr: "203.0.113.0/24" } }],
          ports: [{ port: 443, protocol: "TCP" }],
        })

        // Changed (a merge patch: the allow-list is removed explicitly): egress denied but DNS, ingress open.
        const changed = yield* setNetwork({
          egress: { mode: "Deny", allow: null },
          ingress: { mode: "Allow" },
        })
        yield* reconcileAt(changed.metadata.generation ?? 0)
        const second = yield* policy
        assert.deepStrictEqual(second.spec?.policyTypes, ["Egress"])
        assert.deepStrictEqual(second.spec?.egress?.length, 1)

        // Removed: the policy goes.
        const removed = yield* setNetwork(null)
        yield* reconcileAt(removed.metadata.generation ?? 0)
        const gone = yield* Effect.flip(policy)
        assert.isTrue(KubeError.hasReason("NotFound")(gone))

        // Back, then the pool deleted: garbage collection removes the policy with it.
        const again = yield* setNetwork({})
        yield* reconcileAt(again.metadata.generation ?? 0)
        yield* policy
        yield* client.delete(SandboxPoolResource, "isolated", { namespace })
        yield* Eventually.eventually(
          Effect.flatMap(Effect.either(policy), (result) =>
            result._tag === "Left" && KubeError.hasReason("NotFound")(result.left)
              ? Effect.void
              : Effect.fail("still there"),
          ),
          // The garbage collector may take a while to learn of a resource type it has not seen yet.
          { timeout: "120 seconds" },
        )
      }),
    ),
  )

  it.effect("the API server refuses an allow-list entry without mode AllowList, and a malformed CIDR", () =>
    Effect.scoped(
      Effect.gen(function* () {
        yield* installCrds
        const client = yield* KubeClient.KubeClient
        const namespace = yield* TestNamespace.make("netpol-bad")
        const create = (network: unknown) =>
          Effect.flip(
            client.create(
              RawPool,
              {
                apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
                kind: "SandboxPool",
                metadata: { name: "bad", namespace },
                spec: {
                  replicas: 0,
                  template: {
                    podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox" }] } },
                  },
                  network,
                },
              } as KubeObject.KubeObject,
              { namespace },
            ),
          )
        const mixed = yield* create({ egress: { mode: "Deny", allow: [{ cidr: "10.0.0.0/8" }] } })
        assert.include(mixed.message, "egress.allow is used only with mode AllowList")
        const malformed = yield* create({ egress: { mode: "AllowList", allow: [{ cidr: "10.0.0.0" }] } })
        assert.isTrue(KubeError.hasReason("Invalid")(malformed), malformed.message)
      }),
    ),
  )
})
