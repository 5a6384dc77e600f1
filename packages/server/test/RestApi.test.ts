import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Eventually, FreePorts, Http, TestCluster } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"

class Env extends Context.Tag("RestApiEnv")<
  Env,
  {
    readonly namespace: string
    readonly api: string
    readonly key: string
    readonly otherKey: string
    readonly adminKey: string
  }
>() {}

const env = Layer.scoped(
  Env,
  Effect.gen(function* () {
    const { namespace, system } = yield* OperatorNamespaces.make("rest-api")
    yield* Pools.createPool(namespace, "warm", {
      replicas: 3,
      sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 60 },
    })
    const [apiPort, probePort] = yield* FreePorts.freePorts(2)
    const operator = yield* OperatorHarness.startOperator({
      namespace,
      systemNamespace: system,
      apiPort: apiPort!,
      probePort: probePort!,
    })
    const key = yield* OperatorHarness.mintKey(system, "team-a")
    const otherKey = yield* OperatorHarness.mintKey(system, "team-b")
    const adminKey = yield* OperatorHarness.mintKey(system, "ops", true)
    // The key watch sees new Secrets shortly after they are written.
    yield* Eventually.eventually(
      Effect.flatMap(Http.call(`${operator.apiUrl}/v1/pools`, { key: adminKey }), (r) =>
        r.status === 200 ? Effect.void : Effect.fail(r),
      ),
    )
    return { namespace, api: operator.apiUrl, key, otherKey, adminKey }
  }),
).pipe(Layer.provideMerge(TestCluster.layer))

layer(env, { timeout: "180 seconds", excludeTestServices: true })(
  "REST API against the local control plane",
  (it) => {
    const idlePods = (namespace: string) =>
      Effect.map(Pools.poolPods(namespace, "warm"), (list) =>
        list.items.filter(
          (p) =>
            p.metadata?.labels?.["sandbox.agent-sandbox.dev/state"] === "idle" &&
            p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        ),
      )

    it.effect("fills the pool, allocates, looks up, extends, releases and refills", () =>
      Effect.gen(function* () {
        const { namespace, api, key } = yield* Env
        yield* Eventually.eventually(
          Effect.flatMap(idlePods(namespace), (pods) =>
            pods.length === 3 ? Effect.void : Effect.fail(pods.length),
          ),
          { timeout: "60 seconds" },
        )
        const created = yield* Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "warm", timeoutSeconds: 120, metadata: { run: "r1" } },
        })
        assert.strictEqual(created.status, 201, JSON.stringify(created.body))
        const sandbox = created.body
        assert.strictEqual(sandbox.pool, "warm")
        assert.strictEqual(sandbox.tenant, "team-a")
        assert.deepStrictEqual(sandbox.metadata, { run: "r1" })

        // The claim is on the Pod itself: the durable record.
        const client = yield* KubeClient.KubeClient
        const pod = yield* client.get(ResourceType.Pod, sandbox.pod, { namespace })
        assert.strictEqual(pod.metadata?.labels?.["sandbox.agent-sandbox.dev/sandbox-id"], sandbox.id)
        assert.strictEqual(pod.metadata?.labels?.["sandbox.agent-sandbox.dev/state"], "allocated")

        const got = yield* Http.call(`${api}/v1/sandboxes/${sandbox.id}`, { key })
        assert.strictEqual(got.status, 200)
        assert.strictEqual(got.body.pod, sandbox.pod)

        const extended = yield* Http.call(`${api}/v1/sandboxes/${sandbox.id}/timeout`, {
          method: "POST",
          key,
          body: { timeoutSeconds: 1800 },
        })
        assert.strictEqual(extended.status, 200, JSON.stringify(extended.body))
        assert.isAbove(Date.parse(extended.body.expiresAt), Date.parse(sandbox.expiresAt))

        // The pool replaces the allocated Pod: the warm target counts idle Pods only.
        yield* Eventually.eventually(
          Effect.flatMap(idlePods(namespace), (pods) =>
            pods.length === 3 ? Effect.void : Effect.fail(pods.length),
          ),
          { timeout: "60 seconds" },
        )

        const deleted = yield* Http.call(`${api}/v1/sandboxes/${sandbox.id}`, { method: "DELETE", key })
        assert.strictEqual(deleted.status, 204)
        // Ended: the Pod is recycled in place (the pool's default) and no longer carries the sandbox.
        yield* Eventually.eventually(
          Effect.flatMap(Effect.either(client.get(ResourceType.Pod, sandbox.pod, { namespace })), (r) =>
            r._tag === "Left" ||
            r.right.metadata?.deletionTimestamp !== undefined ||
            r.right.metadata?.labels?.["sandbox.agent-sandbox.dev/sandbox-id"] !== sandbox.id
              ? Effect.void
              : Effect.fail("still there"),
          ),
        )
        const gone = yield* Http.call(`${api}/v1/sandboxes/${sandbox.id}`, { key })
        assert.strictEqual(gone.status, 404)
      }),
    )

    it.effect("keeps tenants apart; an admin sees everyone", () =>
      Effect.gen(function* () {
        const { api, key, otherKey, adminKey } = yield* Env
        const created = yield* Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "warm" },
        })
        assert.strictEqual(created.status, 201)
        const id = created.body.id
        assert.strictEqual((yield* Http.call(`${api}/v1/sandboxes/${id}`, { key: otherKey })).status, 404)
        assert.strictEqual(
          (yield* Http.call(`${api}/v1/sandboxes/${id}`, { method: "DELETE", key: otherKey })).status,
          404,
        )
        const othersList = yield* Http.call(`${api}/v1/sandboxes`, { key: otherKey })
        assert.isFalse(othersList.body.items.some((s: { id: string }) => s.id === id))
        const adminList = yield* Http.call(`${api}/v1/sandboxes`, { key: adminKey })
        assert.isTrue(adminList.body.items.some((s: { id: string }) => s.id === id))
        assert.strictEqual(
          (yield* Http.call(`${api}/v1/sandboxes/${id}`, { method: "DELETE", key: adminKey })).status,
          204,
        )
      }),
    )

    it.effect("allocates a batch, lists with a metadata filter and pages", () =>
      Effect.gen(function* () {
        const { api, key } = yield* Env
        const batch = yield* Http.call(`${api}/v1/sandboxes/batch`, {
          method: "POST",
          key,
          body: { pool: "warm", count: 4, metadata: { batch: "b1" } },
        })
        assert.strictEqual(batch.status, 201, JSON.stringify(batch.body))
        assert.strictEqual(new Set(batch.body.sandboxes.map((s: { pod: string }) => s.pod)).size, 4)
        const seen: Array<string> = []
        let cursor: string | undefined
        do {
          const page = yield* Http.call(
            `${api}/v1/sandboxes?limit=3&metadata=${encodeURIComponent("batch=b1")}${cursor === undefined ? "" : `&cursor=${cursor}`}`,
            { key },
          )
          assert.strictEqual(page.status, 200)
          seen.push(...page.body.items.map((s: { id: string }) => s.id))
          cursor = page.body.nextCursor
        } while (cursor !== undefined)
        assert.deepStrictEqual([...seen].sort(), batch.body.sandboxes.map((s: { id: string }) => s.id).sort())
        for (const id of seen) yield* Http.call(`${api}/v1/sandboxes/${id}`, { method: "DELETE", key })
      }),
    )

    it.effect("answers bad requests with clear, typed errors", () =>
      Effect.gen(function* () {
        const { api, key } = yield* Env
        const noKey = yield* Http.call(`${api}/v1/sandboxes`, { method: "POST", body: { pool: "warm" } })
        assert.strictEqual(noKey.status, 401)
        const wrongKey = yield* Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key: `e2b_${"0".repeat(40)}`,
          body: { pool: "warm" },
        })
        assert.strictEqual(wrongKey.status, 401)
        assert.strictEqual(wrongKey.body._tag, "Unauthorized")
        const unknownPool = yield* Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "nope" },
        })
        assert.strictEqual(unknownPool.status, 404)
        assert.strictEqual(unknownPool.body._tag, "PoolNotFound")
        const negative = yield* Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "warm", timeoutSeconds: -5 },
        })
        assert.strictEqual(negative.status, 400)
        const overMax = yield* Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "warm", timeoutSeconds: 7200 },
        })
        assert.strictEqual(overMax.status, 400)
        const badCursor = yield* Http.call(`${api}/v1/sandboxes?cursor=not-one-of-ours`, { key })
        assert.strictEqual(badCursor.status, 400)
        assert.strictEqual(badCursor.body._tag, "InvalidRequest")
        assert.strictEqual(overMax.body._tag, "InvalidRequest")
        const malformed = yield* Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key,
          rawBody: "{not json",
        })
        assert.strictEqual(malformed.status, 400)
        assert.strictEqual(malformed.body._tag, "InvalidRequest")
        assert.strictEqual(malformed.body.message, "the request body is not valid JSON")
        // Found by the fuzzing suite: multipart without a boundary was a 500.
        const multipart = yield* Effect.promise(() =>
          fetch(`${api}/v1/sandboxes`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "multipart/form-data" },
            body: '{"pool":"warm"}',
          }).then(async (r) => ({ status: r.status, body: (await r.json()) as { _tag: string } })),
        )
        assert.strictEqual(multipart.status, 400)
        assert.strictEqual(multipart.body._tag, "InvalidRequest")
        const badName = yield* Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: "Bad_Name" },
        })
        assert.strictEqual(badName.status, 400)
      }),
    )
  },
)
