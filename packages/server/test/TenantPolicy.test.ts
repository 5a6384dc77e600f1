/**
 * Issue 13, the tenant side, against the local control plane: which pools a key may use (REST,
 * RPC and E2B alike), which images a template allows, and per-tenant quotas, each with its typed
 * error, status and message.
 */
import { SandboxPool, SandboxTemplate } from "@agent-sandbox/domain"
import { KubeClient } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { Eventually, Http, TestCluster } from "@agent-sandbox/testing"
import { E2bOperator, OperatorHarness, Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"

class Env extends Context.Tag("TenantPolicyEnv")<
  Env,
  {
    readonly namespace: string
    readonly api: string
    readonly e2b: string
    readonly template: string
    readonly admin: string
    /** team-c: the pools `base` and `templated` only, at most 2 sandboxes. */
    readonly limited: string
    /** team-d: no pool at all. */
    readonly none: string
    /** team-e: one create per 100 seconds. */
    readonly slow: string
    /** team-f: nothing may wait. */
    readonly noWaiting: string
  }
>() {}

const env = Layer.scoped(
  Env,
  Effect.gen(function* () {
    const operator = yield* E2bOperator.start({ prefix: "tenancy", pool: { replicas: 2 } })
    const { namespace, systemNamespace: system } = operator
    const client = yield* KubeClient.KubeClient
    yield* Pools.createPool(namespace, "secret", { replicas: 1 })
    const template = `${namespace}-tpl`
    yield* Effect.acquireRelease(
      client.create(
        SandboxResources.SandboxTemplateResource,
        Schema.decodeUnknownSync(SandboxTemplate)({
          apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
          kind: "SandboxTemplate",
          metadata: { name: template },
          spec: {
            podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox:1.36" }] } },
            allowedImages: ["ghcr.io/acme/"],
          },
        }),
      ),
      () => Effect.ignore(client.delete(SandboxResources.SandboxTemplateResource, template)),
    )
    yield* client.create(
      SandboxResources.SandboxPoolResource,
      Schema.decodeUnknownSync(SandboxPool)({
        apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
        kind: "SandboxPool",
        metadata: { name: "templated", namespace },
        spec: { templateRef: { name: template }, replicas: 1 },
      }),
      { namespace },
    )
    const mint = (tenant: string, policy: Parameters<typeof OperatorHarness.mintKey>[3]) =>
      OperatorHarness.mintKey(system, tenant, false, policy)
    const keys = {
      limited: yield* mint("team-c", {
        pools: `${namespace}/base, ${namespace}/templated`,
        maxAllocated: "2",
      }),
      none: yield* mint("team-d", { pools: "" }),
      slow: yield* mint("team-e", { pools: "*", createsPerSecond: "0.01" }),
      noWaiting: yield* mint("team-f", { pools: `${namespace}/*`, maxWaiting: "0" }),
    }
    // Ready once the key watch has seen every key.
    yield* Eventually.eventually(
      Effect.flatMap(Http.call(`${operator.apiUrl}/v1/pools`, { key: keys.noWaiting }), (r) =>
        r.status === 200 ? Effect.void : Effect.fail(r),
      ),
    )
    return {
      namespace,
      api: operator.apiUrl,
      e2b: operator.url,
      template,
      admin: operator.keys.admin,
      ...keys,
    }
  }),
).pipe(Layer.provideMerge(TestCluster.layer))

/** One Effect RPC call over HTTP (NDJSON), as the client sends it; the decoded reply lines. */
const rpc = (api: string, key: string, tag: string, payload: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(`${api}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/ndjson", "x-api-key": key },
      body: `${JSON.stringify({ _tag: "Request", id: "1", tag, payload, headers: [] })}\n`,
    })
    const lines = (await response.text()).split("\n").filter((l) => l !== "")
    // biome-ignore lint/suspicious/noExplicitAny: the RPC wire format, read as JSON
    return lines.map((l) => JSON.parse(l) as any)
  })

/** The typed failure of an RPC reply, if it failed. */
// biome-ignore lint/suspicious/noExplicitAny: the RPC wire format, read as JSON
const rpcFailure = (lines: ReadonlyArray<any>) => {
  const exit = lines.find((l) => l._tag === "Exit")?.exit
  return exit?._tag === "Failure" ? exit.cause?.error : undefined
}

layer(env, { timeout: "180 seconds", excludeTestServices: true })("tenant policy and quotas", (it) => {
  it.effect("a pool outside the key's policy is not found on REST, RPC and E2B, as a missing pool", () =>
    Effect.gen(function* () {
      const { api, e2b, namespace, limited, admin } = yield* Env
      const outside = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key: limited,
        body: { pool: "secret" },
      })
      const missing = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key: limited,
        body: { pool: "nope" },
      })
      assert.strictEqual(outside.status, 404, JSON.stringify(outside.body))
      assert.deepStrictEqual(outside.body, {
        _tag: "PoolNotFound",
        namespace,
        pool: "secret",
        message: `SandboxPool ${namespace}/secret not found`,
      })
      assert.deepStrictEqual(missing.body, {
        _tag: "PoolNotFound",
        namespace,
        pool: "nope",
        message: `SandboxPool ${namespace}/nope not found`,
      })
      const batch = yield* Http.call(`${api}/v1/sandboxes/batch`, {
        method: "POST",
        key: limited,
        body: { pool: "secret", count: 2 },
      })
      assert.strictEqual(batch.status, 404)
      assert.strictEqual(batch.body._tag, "PoolNotFound")

      const overRpc = rpcFailure(yield* rpc(api, limited, "allocate", { pool: "secret" }))
      assert.strictEqual(overRpc?._tag, "PoolNotFound", JSON.stringify(overRpc))
      assert.strictEqual(overRpc?.message, `SandboxPool ${namespace}/secret not found`)

      const overE2b = yield* Http.call(`${e2b}/v2/sandboxes`, {
        method: "POST",
        key: limited,
        body: { templateID: "secret" },
      })
      assert.strictEqual(overE2b.status, 404)
      assert.deepStrictEqual(overE2b.body, {
        code: 404,
        message: `template 'secret' not found (no SandboxPool ${namespace}/secret)`,
      })

      // An admin key keeps every pool.
      const asAdmin = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key: admin,
        body: { pool: "secret" },
      })
      assert.strictEqual(asAdmin.status, 201, JSON.stringify(asAdmin.body))
      yield* Http.call(`${api}/v1/sandboxes/${asAdmin.body.id}`, { method: "DELETE", key: admin })
    }),
  )

  it.effect("pools and templates are listed only as far as the key may use them", () =>
    Effect.gen(function* () {
      const { api, limited, none, admin, template } = yield* Env
      const names = (body: ReadonlyArray<{ readonly name: string }>) => body.map((p) => p.name).sort()
      assert.deepStrictEqual(names((yield* Http.call(`${api}/v1/pools`, { key: limited })).body), [
        "base",
        "templated",
      ])
      assert.deepStrictEqual(names((yield* Http.call(`${api}/v1/pools`, { key: admin })).body), [
        "base",
        "secret",
        "templated",
      ])
      assert.deepStrictEqual((yield* Http.call(`${api}/v1/pools`, { key: none })).body, [])
      assert.deepStrictEqual(names((yield* Http.call(`${api}/v1/templates`, { key: limited })).body), [
        template,
      ])
      assert.deepStrictEqual((yield* Http.call(`${api}/v1/templates`, { key: none })).body, [])
      assert.include(names((yield* Http.call(`${api}/v1/templates`, { key: admin })).body), template)
    }),
  )

  it.effect("an image the template does not allow is 403 ImageNotAllowed; an allowed one runs", () =>
    Effect.gen(function* () {
      const { api, limited, template } = yield* Env
      const refused = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key: limited,
        body: { pool: "templated", image: "docker.io/attacker/miner:1" },
      })
      assert.strictEqual(refused.status, 403, JSON.stringify(refused.body))
      assert.deepStrictEqual(refused.body, {
        _tag: "ImageNotAllowed",
        image: "docker.io/attacker/miner:1",
        message: `image 'docker.io/attacker/miner:1' is not allowed by template '${template}': name one of its runtimes, or an image its allowedImages lists`,
      })
      const overRpc = rpcFailure(
        yield* rpc(api, limited, "allocate", { pool: "templated", image: "docker.io/attacker/miner:1" }),
      )
      assert.strictEqual(overRpc?._tag, "ImageNotAllowed")
      // A pool without allowedImages takes no image but its own.
      const inline = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key: limited,
        body: { pool: "base", image: "ghcr.io/acme/agent:1" },
      })
      assert.strictEqual(inline.status, 403)
      assert.strictEqual(inline.body._tag, "ImageNotAllowed")

      const allowed = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key: limited,
        body: { pool: "templated", image: "ghcr.io/acme/agent:1", wait: false },
      })
      assert.strictEqual(allowed.status, 201, JSON.stringify(allowed.body))
      assert.strictEqual(allowed.body.image, "ghcr.io/acme/agent:1")
      yield* Http.call(`${api}/v1/sandboxes/${allowed.body.id}`, { method: "DELETE", key: limited })
    }),
  )

  it.effect(
    "maxAllocated: a tenant at its quota gets 429 QuotaExceeded with Retry-After until it releases",
    () =>
      Effect.gen(function* () {
        const { api, limited } = yield* Env
        const create = Http.call(`${api}/v1/sandboxes`, {
          method: "POST",
          key: limited,
          body: { pool: "base" },
        })
        // Sandboxes left from earlier cases end asynchronously: wait until the tenant holds none.
        yield* Eventually.eventually(
          Effect.flatMap(Http.call(`${api}/v1/sandboxes`, { key: limited }), (r) =>
            r.body.items.length === 0 ? Effect.void : Effect.fail(r.body.items.length),
          ),
        )
        const first = yield* create
        const second = yield* create
        assert.strictEqual(first.status, 201, JSON.stringify(first.body))
        assert.strictEqual(second.status, 201, JSON.stringify(second.body))
        const third = yield* create
        assert.strictEqual(third.status, 429, JSON.stringify(third.body))
        assert.strictEqual(third.body._tag, "QuotaExceeded")
        assert.strictEqual(third.body.quota, "maxAllocated")
        assert.strictEqual(third.body.limit, 2)
        assert.include(third.body.message, "quota of 2")
        assert.strictEqual(third.headers.get("retry-after"), String(third.body.retryAfterSeconds))
        // A batch that would pass it is refused whole.
        const batch = yield* Http.call(`${api}/v1/sandboxes/batch`, {
          method: "POST",
          key: limited,
          body: { pool: "base", count: 2 },
        })
        assert.strictEqual(batch.status, 429)
        assert.strictEqual(batch.body.quota, "maxAllocated")

        yield* Http.call(`${api}/v1/sandboxes/${first.body.id}`, { method: "DELETE", key: limited })
        const again = yield* create
        assert.strictEqual(again.status, 201, JSON.stringify(again.body))
        for (const id of [second.body.id, again.body.id]) {
          yield* Http.call(`${api}/v1/sandboxes/${id}`, { method: "DELETE", key: limited })
        }
      }),
  )

  it.effect("createsPerSecond and maxWaiting: 429 QuotaExceeded on REST, RPC and E2B", () =>
    Effect.gen(function* () {
      const { api, e2b, slow, noWaiting } = yield* Env
      const first = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key: slow,
        body: { pool: "base" },
      })
      assert.strictEqual(first.status, 201, JSON.stringify(first.body))
      const second = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key: slow,
        body: { pool: "base" },
      })
      assert.strictEqual(second.status, 429)
      assert.strictEqual(second.body.quota, "createsPerSecond")
      // One token per 100 s: the bucket says when the next one is there.
      assert.isAbove(second.body.retryAfterSeconds, 1)
      assert.strictEqual(second.headers.get("retry-after"), String(second.body.retryAfterSeconds))
      const overE2b = yield* Http.call(`${e2b}/v2/sandboxes`, {
        method: "POST",
        key: slow,
        body: { templateID: "base" },
      })
      assert.strictEqual(overE2b.status, 429)
      assert.strictEqual(overE2b.body.code, 429)
      assert.include(overE2b.body.message, "allocations per second")
      assert.isNotNull(overE2b.headers.get("retry-after"))
      yield* Http.call(`${api}/v1/sandboxes/${first.body.id}`, { method: "DELETE", key: slow })

      const waiting = rpcFailure(yield* rpc(api, noWaiting, "allocate", { pool: "base" }))
      assert.strictEqual(waiting?._tag, "QuotaExceeded")
      assert.strictEqual(waiting?.quota, "maxWaiting")
      const rest = yield* Http.call(`${api}/v1/sandboxes`, {
        method: "POST",
        key: noWaiting,
        body: { pool: "base" },
      })
      assert.strictEqual(rest.status, 429)
      assert.strictEqual(rest.body.quota, "maxWaiting")
    }),
  )
})
