/**
 * A sandbox claimed a moment ago, asked for before the extproc's Pod watch has it: looked up once
 * from the API server (a real kube-apiserver here) instead of answered 404; and random ids, which
 * no cache will ever have, cost a bounded number of API requests (counted from the API server's
 * own metrics), not one each.
 */
import { SandboxCrds, type SandboxIdFormat, SandboxPool, SandboxPoolResource } from "@agent-sandbox/domain"
import { KubeClient, Patch, ResourceType } from "@agent-sandbox/kube"
import { Crds, TestCluster, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Clock, Effect, Either, Layer, Schema } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as ClusterTable from "../src/ClusterTable.ts"
import * as ExtProcServer from "../src/ExtProcServer.ts"
import * as LocalPools from "../src/LocalPools.ts"
import * as LocalSandbox from "../src/LocalSandbox.ts"
import * as LocalSandboxes from "../src/LocalSandboxes.ts"
import * as Responses from "../src/Responses.ts"
import * as RouteState from "../src/RouteState.ts"
import * as ApiServerRequests from "./support/ApiServerRequests.ts"
import { client, converseOn, headers, immediateStatus, setHeaders } from "./support/Wire.ts"

const limits = { perSecond: 5, burst: 10 }
const domain = "sandbox.test"

const randomPart = () =>
  Array.from(
    { length: 20 },
    () => "abcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(Math.random() * 36)],
  ).join("")

/** The extproc's routing half over the test namespace: the real caches and the real fallback. */
const extproc = (namespace: string) =>
  ExtProcServer.layer({
    host: "127.0.0.1",
    port: 0,
    decision: { domain, staleAfterMillis: 60_000 },
    headers: Responses.defaultHeaderNames,
  }).pipe(
    Layer.provideMerge(
      LocalSandboxes.layer({ namespace, tokenKeyNamespace: undefined, missLookups: limits }),
    ),
    Layer.provide(LocalPools.layer({ namespace })),
    Layer.provide(
      RouteState.layer({
        initial: ClusterTable.make("a" as SandboxIdFormat.ClusterTag, "127.0.0.1:8090"),
        maxActivity: 100,
      }),
    ),
  )

const publicPool = (namespace: string) =>
  Effect.flatMap(KubeClient.KubeClient, (kube) =>
    kube.create(
      SandboxPoolResource,
      Schema.decodeUnknownSync(SandboxPool)({
        apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
        kind: "SandboxPool",
        metadata: { name: "web", namespace },
        spec: { templateRef: { name: "none" }, replicas: 0, portAccess: "Public" },
      }),
      { namespace },
    ),
  )

/**
 * What the operator's claim leaves: an allocated sandbox Pod, Running and Ready at `ip`. Made as a
 * claim makes it: a Running, Ready idle Pod first, then labelled allocated, so the extproc never
 * sees an allocated version without its IP (which it would rightly answer 503).
 */
const claimedPod = (namespace: string, sandboxId: string, ip: string) =>
  Effect.gen(function* () {
    const kube = yield* KubeClient.KubeClient
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: `web-${sandboxId}`,
        namespace,
        labels: {
          [LocalSandbox.Label.state]: "idle",
          [LocalSandbox.Label.pool]: "web",
        },
      },
      // A node nobody runs: no scheduler or KWOK touches it; the status is written below.
      spec: { nodeName: "nowhere", containers: [{ name: "sandbox", image: "busybox:1.36" }] },
    }
    const created = yield* kube.create(ResourceType.Pod, pod, { namespace })
    return yield* kube
      .replaceStatus(
        ResourceType.Pod,
        {
          ...created,
          status: {
            phase: "Running",
            podIP: ip,
            podIPs: [{ ip }],
            conditions: [{ type: "Ready", status: "True" }],
          },
        },
        { namespace },
      )
      .pipe(
        Effect.zipRight(
          kube.patch(
            ResourceType.Pod,
            `web-${sandboxId}`,
            Patch.merge({
              metadata: {
                labels: {
                  [LocalSandbox.Label.state]: "allocated",
                  [LocalSandbox.Label.sandboxId]: sandboxId,
                },
              },
            }),
            { namespace },
          ),
        ),
      )
  })

layer(Layer.provideMerge(TestNamespace.layer("extproc-miss"), TestCluster.layer), {
  excludeTestServices: true,
})("a sandbox the extproc's cache lacks", (it) => {
  it.scoped(
    "claimed a moment ago: routed to its Pod, not 404; random ids: a bounded number of LISTs",
    () =>
      Effect.gen(function* () {
        const { name: namespace } = yield* TestNamespace.TestNamespace
        yield* Crds.install(Either.getOrThrow(SandboxCrds.all()))
        yield* publicPool(namespace)
        const context = yield* Layer.build(extproc(namespace))
        const server = Effect.provide(ExtProcServer.ExtProcServer, context)
        const sandboxes = Effect.provide(LocalSandboxes.LocalSandboxes, context)
        const { port } = yield* server
        const through = yield* client(port)

        // The fallback itself reads the API server: right after the claim it has the Pod, whatever the watch has.
        const justClaimed = `a-${randomPart()}`
        yield* claimedPod(namespace, justClaimed, "10.1.2.3")
        const found = yield* Effect.flatMap(sandboxes, (s) => s.lookupMissed(justClaimed))
        assert.strictEqual(found?.sandbox.podIp, "10.1.2.3")
        assert.strictEqual(found?.access, "Public")

        // Through the server: claimed and asked for at once, every time (cache or fallback).
        for (let i = 0; i < 5; i++) {
          const id = `a-${randomPart()}`
          yield* claimedPod(namespace, id, `10.1.3.${i + 1}`)
          const [answer] = yield* converseOn(through, [
            headers({ ":authority": `8000-${id}.${domain}`, ":path": "/" }),
          ])
          assert.strictEqual(immediateStatus(answer), undefined, "a 404 for a sandbox that exists")
          assert.strictEqual(setHeaders(answer)["x-agent-sandbox-upstream"], `10.1.3.${i + 1}:8000`)
        }

        // 300 random ids, 30 at a time: each is 404, and the LISTs are what the bucket allows
        // (the burst plus its rate over the time taken), not 300.
        const before = yield* ApiServerRequests.count({ verb: "LIST", resource: "pods" })
        const started = yield* Clock.currentTimeMillis
        const statuses = yield* Effect.forEach(
          Array.from({ length: 300 }, () => `a-${randomPart()}`),
          (id) =>
            Effect.map(
              converseOn(through, [headers({ ":authority": `8000-${id}.${domain}`, ":path": "/" })]),
              ([answer]) => immediateStatus(answer),
            ),
          { concurrency: 30 },
        )
        const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
        const lists = (yield* ApiServerRequests.count({ verb: "LIST", resource: "pods" })) - before
        assert.deepStrictEqual(new Set(statuses), new Set([404]))
        // Other suites share this API server: a few of their LISTs may land in the window too.
        const allowed = limits.burst + Math.ceil(limits.perSecond * seconds) + 10
        assert.isAtMost(lists, allowed, `${lists} LISTs of pods for 300 random ids in ${seconds} s`)
      }),
    120_000,
  )
})
