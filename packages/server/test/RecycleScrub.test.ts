/**
 * A recycle in place where a node agent's Lease says it serves the Pod's node, on the local control
 * plane (KWOK: no container, so no real agent; docs/security.md, "Recycling"). The release recycles
 * the Pod in place and marks it for the agent; when the agent does not clear it (gone without a word,
 * or wedged after accepting the request), the Pod is deleted (ScrubFailed) without ever being
 * offered with the last tenant's state in it. With two replicas the agent is asked once (the leader
 * scrubs), and a leader that stops mid-scrub hands the Pod to the next one. The scrub that succeeds
 * is proven on the real node (RecycleIpc.realnode.test.ts).
 */
import { NodeAgentLease, PodScrubGrant } from "@agent-sandbox/envd"
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { SandboxPod } from "@agent-sandbox/operator/internal"
import {
  Eventually,
  FreePorts,
  Http,
  KwokConfig,
  PodEvents,
  SilentListener,
  TestCluster,
} from "@agent-sandbox/testing"
import { E2bOperator, Leader, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Clock, Context, Effect, Layer } from "effect"

/** Every KWOK node "served" by an agent at `address`: its Lease is live, whatever answers there. */
const agentServesEveryNode = (server: E2bOperator.E2bOperator, address: string) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const now = yield* Clock.currentTimeMillis
    for (const node of KwokConfig.fakeNodeNames(3)) {
      yield* client.create(
        ResourceType.Lease,
        NodeAgentLease.make({
          namespace: server.systemNamespace,
          node,
          address,
          now,
          durationSeconds: 3600,
        }),
        { namespace: server.systemNamespace },
      )
    }
  })

const allocate = (apiUrl: string, key: string) =>
  Effect.flatMap(
    Http.call(`${apiUrl}/v1/sandboxes`, { method: "POST", key, body: { pool: "agented" } }),
    (r) => (r.status === 201 ? Effect.succeed(r.body as { id: string; pod: string }) : Effect.fail(r)),
  )

/**
 * A sandbox allocated on a pool of one Pod, then released (recycled in place and marked), with what
 * the watch showed of its Pod from before the release on: marked, offered, deleted.
 */
const allocateAndRelease = (server: E2bOperator.E2bOperator) =>
  Effect.gen(function* () {
    yield* Pools.createPool(server.namespace, "agented", {
      replicas: 1,
      maxPods: 1,
      sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
    })
    const first = yield* Eventually.eventually(allocate(server.apiUrl, server.keys.tenantA), {
      timeout: "60 seconds",
    })
    const seen = { marked: false, offered: false }
    const events = yield* PodEvents.record(server.namespace, ({ pods }) => {
      const pod = pods.get(first.pod)
      const view = pod === undefined ? undefined : SandboxPod.read(pod)
      if (view === undefined || view.state !== "idle") return
      if (view.scrubPending) seen.marked = true
      if (SandboxPod.isClaimable(view)) seen.offered = true
    })
    const released = yield* Http.call(`${server.apiUrl}/v1/sandboxes/${first.id}`, {
      method: "DELETE",
      key: server.keys.tenantA,
    })
    assert.strictEqual(released.status, 204)
    const deleted = Eventually.eventually(
      Effect.suspend(() => (events.deleted.has(first.pod) ? Effect.void : Effect.fail("not deleted yet"))),
      { timeout: "60 seconds" },
    )
    return { first, seen, deleted }
  })

/** The requests a silent agent took that ask for a scrub (each on its own connection). */
const scrubRequests = (agent: SilentListener.SilentListener) =>
  Effect.map(agent.received, (all) =>
    all.filter(
      (text) =>
        text.startsWith(`POST ${PodScrubGrant.path} `) &&
        text.toLowerCase().includes(PodScrubGrant.headerName),
    ),
  )

/** A counter's value in a Prometheus exposition, for the series with exactly these labels. */
const counterValue = (exposition: string, name: string, labels: Record<string, string>): number => {
  for (const line of exposition.split("\n")) {
    const match = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries(
      [...match[2]!.matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as const),
    )
    const keys = Object.keys(labels)
    if (Object.keys(found).length === keys.length && keys.every((k) => found[k] === labels[k]))
      return Number(match[3])
  }
  return 0
}

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
        const [deadPort] = yield* FreePorts.freePorts(1)
        // The agent died without deleting its Lease: its address refuses connections.
        yield* agentServesEveryNode(server, `http://127.0.0.1:${deadPort}`)
        const { first, seen, deleted } = yield* allocateAndRelease(server)
        yield* deleted
        assert.isTrue(
          seen.marked,
          "recycled in place and marked for the agent (an agent's Lease serves the node)",
        )
        assert.isFalse(seen.offered, "never claimable with the last tenant's state in it")
        const next = yield* Eventually.eventually(allocate(server.apiUrl, server.keys.tenantA), {
          timeout: "60 seconds",
        })
        assert.notStrictEqual(next.pod, first.pod, "the next tenant gets a new Pod")
      }),
  )
})

class TwoReplicas extends Context.Tag("RecycleScrubTwoReplicas")<TwoReplicas, E2bOperator.E2bOperator>() {}

const twoReplicas = (prefix: string, scrubSeconds: number) =>
  Layer.scoped(
    TwoReplicas,
    E2bOperator.start({ prefix, pool: { replicas: 0 }, nodeAgents: true, replicas: 2, scrubSeconds }),
  ).pipe(Layer.provideMerge(TestCluster.layer))

layer(twoReplicas("scrub-hang", 2), { timeout: "180 seconds", excludeTestServices: true })(
  "two replicas, an agent that never answers",
  (it) => {
    it.scoped(
      "the agent is asked once, not once per replica; after the scrub timeout the Pod is deleted and counted",
      () =>
        Effect.gen(function* () {
          const server = yield* TwoReplicas
          // Accepts the request and never answers, as a wedged agent would.
          const agent = yield* SilentListener.make
          yield* agentServesEveryNode(server, agent.url)
          const { seen, deleted } = yield* allocateAndRelease(server)
          // Deleted only once the request timed out (AGENT_SANDBOX_NODE_AGENT_SCRUB_SECONDS=2): the
          // agent never answered, so nothing else could have ended the scrub.
          yield* deleted
          assert.isTrue(seen.marked)
          assert.isFalse(seen.offered, "never claimable while the agent did not answer")
          const asked = yield* scrubRequests(agent)
          assert.strictEqual(asked.length, 1, "one replica (the leader) asked the agent, once")
          const exposition = yield* Effect.promise(() =>
            fetch(server.replicas[1]!.metricsUrl).then((r) => r.text()),
          )
          assert.strictEqual(
            counterValue(exposition, "agent_sandbox_sandbox_ends_total", {
              namespace: server.namespace,
              result: "scrub_failed",
            }),
            1,
          )
        }),
    )
  },
)

layer(twoReplicas("scrub-handover", 8), { timeout: "180 seconds", excludeTestServices: true })(
  "two replicas, the leader stops mid-scrub",
  (it) => {
    it.scoped("the next leader takes the marked Pod up: it ends deleted, never offered", () =>
      Effect.gen(function* () {
        const server = yield* TwoReplicas
        const agent = yield* SilentListener.make
        yield* agentServesEveryNode(server, agent.url)
        const { seen, deleted } = yield* allocateAndRelease(server)
        yield* Eventually.eventually(
          Effect.flatMap(scrubRequests(agent), (asked) =>
            asked.length === 1 ? Effect.void : Effect.fail(`asked ${asked.length} times`),
          ),
          { timeout: "60 seconds" },
        )
        // The leader stops while its request to the agent is still open (8 s before it times out).
        const leader = yield* Leader.leaderOf(server.systemNamespace)
        const stopping = server.replicas.find((r) => r.replicaId === leader)
        assert.isDefined(stopping, `the leader ${leader} is one of the replicas`)
        yield* stopping!.stop
        yield* deleted
        assert.isTrue(seen.marked)
        assert.isFalse(seen.offered, "never claimable across the handover")
        const asked = yield* scrubRequests(agent)
        assert.strictEqual(
          asked.length,
          2,
          "each leader asked once: the one that stopped, then its successor",
        )
      }),
    )
  },
)
