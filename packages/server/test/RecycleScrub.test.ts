/**
 * A recycle in place where a node agent's Lease says it serves the Pod's node, on the local control
 * plane (KWOK: no container, so no real agent; docs/security.md, "Recycling"). The agent here
 * died without deleting its Lease (its address refuses connections), as after a SIGKILL: the
 * release recycles the Pod in place and marks it for the agent, the scrub fails, and the Pod is
 * deleted without ever being offered with the last tenant's state in it. The scrub that succeeds
 * is proven on the real node (RecycleIpc.realnode.test.ts).
 */
import { NodeAgentLease } from "@agent-sandbox/envd"
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { SandboxPod } from "@agent-sandbox/operator/internal"
import { Eventually, FreePorts, Http, KwokConfig, PodEvents, TestCluster } from "@agent-sandbox/testing"
import { E2bOperator, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Clock, Context, Effect, Layer } from "effect"

class Env extends Context.Tag("RecycleScrubEnv")<Env, E2bOperator.E2bOperator>() {}

const env = Layer.scoped(
  Env,
  E2bOperator.start({ prefix: "scrub", pool: { replicas: 0 }, nodeAgents: true }),
).pipe(Layer.provideMerge(TestCluster.layer))

layer(env, { timeout: "180 seconds", excludeTestServices: true })("recycling with a node agent", (it) => {
  it.scoped(
    "a scrub that fails deletes the recycled Pod (ScrubFailed): marked, never offered, then gone",
    () =>
      Effect.gen(function* () {
        const server = yield* Env
        const client = yield* KubeClient.KubeClient
        const [deadPort] = yield* FreePorts.freePorts(1)
        const now = yield* Clock.currentTimeMillis
        // Every KWOK node "served" by an agent that is gone without a word: its Lease is live.
        for (const node of KwokConfig.fakeNodeNames(3)) {
          yield* client.create(
            ResourceType.Lease,
            NodeAgentLease.make({
              namespace: server.systemNamespace,
              node,
              address: `http://127.0.0.1:${deadPort}`,
              now,
              durationSeconds: 3600,
            }),
            { namespace: server.systemNamespace },
          )
        }
        yield* Pools.createPool(server.namespace, "agented", {
          replicas: 1,
          maxPods: 1,
          sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
        })
        const allocate = Effect.flatMap(
          Http.call(`${server.apiUrl}/v1/sandboxes`, {
            method: "POST",
            key: server.keys.tenantA,
            body: { pool: "agented" },
          }),
          (r) => (r.status === 201 ? Effect.succeed(r.body as { id: string; pod: string }) : Effect.fail(r)),
        )
        const first = yield* Eventually.eventually(allocate, { timeout: "60 seconds" })
        let marked = false
        let offered = false
        const events = yield* PodEvents.record(server.namespace, ({ pods }) => {
          const pod = pods.get(first.pod)
          const view = pod === undefined ? undefined : SandboxPod.read(pod)
          if (view === undefined || view.state !== "idle") return
          if (view.scrubPending) marked = true
          if (SandboxPod.isClaimable(view)) offered = true
        })
        const released = yield* Http.call(`${server.apiUrl}/v1/sandboxes/${first.id}`, {
          method: "DELETE",
          key: server.keys.tenantA,
        })
        assert.strictEqual(released.status, 204)
        yield* Eventually.eventually(
          Effect.suspend(() =>
            events.deleted.has(first.pod) ? Effect.void : Effect.fail("not deleted yet"),
          ),
          { timeout: "60 seconds" },
        )
        assert.isTrue(marked, "recycled in place and marked for the agent (an agent's Lease serves the node)")
        assert.isFalse(offered, "never claimable with the last tenant's state in it")
        const next = yield* Eventually.eventually(allocate, { timeout: "60 seconds" })
        assert.notStrictEqual(next.pod, first.pod, "the next tenant gets a new Pod")
      }),
  )
})
