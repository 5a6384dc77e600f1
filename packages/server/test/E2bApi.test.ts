/**
 * The E2B control plane and the data plane's routing and access checks over plain HTTP, as the
 * SDKs call them, against the local control plane (the SDKs themselves run in packages/sdk-tests).
 */
import { request as httpRequest } from "node:http"
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { Eventually, Http } from "@agent-sandbox/testing"
import { E2bOperator } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"

class Env extends Context.Tag("E2bApiEnv")<Env, E2bOperator.E2bOperator>() {}

const env = Layer.scoped(Env, E2bOperator.start({ prefix: "e2b-api" })).pipe(
  Layer.provideMerge(Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)),
)

const seconds = (s: { startedAt: string; endAt: string }) =>
  (Date.parse(s.endAt) - Date.parse(s.startedAt)) / 1000

/** A raw data-plane call: a Connect unary request (JSON) or a plain envd path. */
const envd = (
  url: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Effect.Effect<{ status: number; text: string }> =>
  Effect.promise(async () => {
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: response.status, text: await response.text() }
  })

layer(env, { timeout: "240 seconds", excludeTestServices: true })(
  "E2B API on the local control plane",
  (it) => {
    it.effect("creates (v1 and v2), describes, connects, sets the timeout and kills", () =>
      Effect.gen(function* () {
        const { url, keys, namespace } = yield* Env
        const key = keys.tenantA
        const sandbox = yield* E2bOperator.createSandbox(url, key, {
          templateID: "base",
          metadata: { run: "r1" },
          envVars: { GREETING: "hi" },
        })
        assert.strictEqual(sandbox.templateID, "base")
        assert.strictEqual(sandbox.alias, "base")
        assert.strictEqual(sandbox.envdVersion, "0.5.7")
        assert.strictEqual(sandbox.domain, "sandbox.test")
        assert.match(sandbox.sandboxID, /^[a-z0-9]{20}$/)
        assert.isString(sandbox.clientID)
        assert.isString(sandbox.envdAccessToken)

        // Only a digest and a nonce of the token reach the cluster; the env vars ride along.
        const client = yield* KubeClient.KubeClient
        const pod = yield* client.get(ResourceType.Pod, sandbox.clientID, { namespace })
        const annotations = pod.metadata?.annotations ?? {}
        assert.notInclude(JSON.stringify(pod), sandbox.envdAccessToken)
        assert.match(annotations["e2b.agent-sandbox.dev/access-token-sha256"] ?? "", /^[0-9a-f]{64}$/)
        assert.deepStrictEqual(JSON.parse(annotations["e2b.agent-sandbox.dev/env-vars"] ?? ""), {
          GREETING: "hi",
        })

        const detail = yield* Http.call(`${url}/sandboxes/${sandbox.sandboxID}`, { key })
        assert.strictEqual(detail.status, 200)
        assert.strictEqual(detail.body.state, "running")
        assert.strictEqual(detail.body.envdAccessToken, sandbox.envdAccessToken)
        assert.deepStrictEqual(detail.body.metadata, { run: "r1" })
        // The v2 create's default timeout is E2B's 300 s.
        assert.strictEqual(seconds(detail.body), 300)
        for (const field of ["cpuCount", "memoryMB", "diskSizeMB"]) assert.isNumber(detail.body[field])

        // Connect extends, never shortens; setTimeout sets.
        const shorter = yield* Http.call(`${url}/v2/sandboxes/${sandbox.sandboxID}/connect`, {
          method: "POST",
          key,
          body: { timeout: 10 },
        })
        assert.strictEqual(shorter.status, 200, JSON.stringify(shorter.body))
        assert.strictEqual(shorter.body.envdAccessToken, sandbox.envdAccessToken)
        const afterShorter = yield* Http.call(`${url}/sandboxes/${sandbox.sandboxID}`, { key })
        assert.strictEqual(afterShorter.body.endAt, detail.body.endAt)
        const longer = yield* Http.call(`${url}/sandboxes/${sandbox.sandboxID}/connect`, {
          method: "POST",
          key,
          body: { timeout: 500 },
        })
        assert.strictEqual(longer.status, 200)
        const afterLonger = yield* Http.call(`${url}/sandboxes/${sandbox.sandboxID}`, { key })
        assert.isAbove(Date.parse(afterLonger.body.endAt), Date.parse(detail.body.endAt))
        const set = yield* Http.call(`${url}/sandboxes/${sandbox.sandboxID}/timeout`, {
          method: "POST",
          key,
          body: { timeout: 60 },
        })
        assert.strictEqual(set.status, 204)
        const afterSet = yield* Http.call(`${url}/sandboxes/${sandbox.sandboxID}`, { key })
        assert.isBelow(Date.parse(afterSet.body.endAt), Date.parse(afterLonger.body.endAt))

        // The v1 create: its default is 15 s; any timeout is capped by the pool's maximum (600 s).
        const v1 = yield* E2bOperator.createSandbox(url, key, undefined, { path: "/sandboxes" })
        const v1Detail = yield* Http.call(`${url}/sandboxes/${v1.sandboxID}`, { key })
        assert.strictEqual(seconds(v1Detail.body), 15)
        const long = yield* E2bOperator.createSandbox(url, key, {
          templateID: `${namespace}/base`,
          timeout: 86_400,
        })
        const longDetail = yield* Http.call(`${url}/sandboxes/${long.sandboxID}`, { key })
        assert.strictEqual(seconds(longDetail.body), 600)

        for (const id of [sandbox.sandboxID, v1.sandboxID, long.sandboxID]) {
          const killed = yield* Http.call(`${url}/sandboxes/${id}`, { method: "DELETE", key })
          assert.strictEqual(killed.status, 204)
          const again = yield* Http.call(`${url}/sandboxes/${id}`, { method: "DELETE", key })
          assert.strictEqual(again.status, 404)
          assert.deepStrictEqual(again.body, { code: 404, message: `sandbox ${id} not found` })
        }
      }),
    )

    it.effect("a retried create with the same Idempotency-Key returns the first sandbox", () =>
      Effect.gen(function* () {
        const { url, keys } = yield* Env
        const create = (key: string, idempotencyKey: string) =>
          Effect.promise(async () => {
            const response = await fetch(`${url}/v2/sandboxes`, {
              method: "POST",
              headers: {
                "x-api-key": key,
                "content-type": "application/json",
                "idempotency-key": idempotencyKey,
              },
              body: JSON.stringify({ templateID: "base" }),
            })
            return { status: response.status, body: (await response.json()) as { sandboxID: string } }
          })
        const first = yield* create(keys.tenantA, "retry-1")
        const again = yield* create(keys.tenantA, "retry-1")
        const otherKey = yield* create(keys.tenantA, "retry-2")
        const otherTenant = yield* create(keys.tenantB, "retry-1")
        assert.deepStrictEqual([first.status, again.status], [201, 201])
        assert.strictEqual(again.body.sandboxID, first.body.sandboxID)
        assert.notStrictEqual(otherKey.body.sandboxID, first.body.sandboxID)
        assert.notStrictEqual(otherTenant.body.sandboxID, first.body.sandboxID)
        for (const [key, id] of [
          [keys.tenantA, first.body.sandboxID],
          [keys.tenantA, otherKey.body.sandboxID],
          [keys.tenantB, otherTenant.body.sandboxID],
        ] as const) {
          yield* Http.call(`${url}/sandboxes/${id}`, { method: "DELETE", key })
        }
      }),
    )

    it.effect("lists with metadata, state, template and paging", () =>
      Effect.gen(function* () {
        const { url, keys } = yield* Env
        const key = keys.tenantB
        const ids: Array<string> = []
        for (const n of [1, 2, 3]) {
          const created = yield* E2bOperator.createSandbox(url, key, {
            templateID: "base",
            metadata: { suite: "list me", n: String(n) },
          })
          ids.push(created.sandboxID)
        }
        // Encoded as the SDKs do: each key and value, then the pairs (then the parameter itself).
        const filter = new URLSearchParams({ [encodeURIComponent("suite")]: encodeURIComponent("list me") })
        const query = (extra: string) =>
          `${url}/v2/sandboxes?metadata=${encodeURIComponent(filter.toString())}${extra}`
        const all = yield* Http.call(query(""), { key })
        assert.strictEqual(all.status, 200)
        assert.sameMembers(
          all.body.map((s: { sandboxID: string }) => s.sandboxID),
          ids,
        )
        assert.strictEqual(all.headers.get("x-total-running"), "3")
        assert.isNull(all.headers.get("x-next-token"))
        assert.deepStrictEqual(
          all.body.map((s: { state: string }) => s.state),
          ["running", "running", "running"],
        )

        const seen: Array<string> = []
        let token: string | null = null
        do {
          const page: Http.JsonResponse = yield* Http.call(
            query(`&limit=2&order=asc${token === null ? "" : `&nextToken=${encodeURIComponent(token)}`}`),
            { key },
          )
          assert.strictEqual(page.status, 200)
          assert.isAtMost(page.body.length, 2)
          seen.push(...page.body.map((s: { sandboxID: string }) => s.sandboxID))
          token = page.headers.get("x-next-token")
        } while (token !== null)
        assert.deepStrictEqual(seen, ids, "ascending by start time, no item twice")

        const one = yield* Http.call(`${url}/v2/sandboxes?metadata=${encodeURIComponent("n=2")}`, { key })
        assert.deepStrictEqual(
          one.body.map((s: { sandboxID: string }) => s.sandboxID),
          [ids[1]],
        )
        const paused = yield* Http.call(query("&state=paused"), { key })
        assert.deepStrictEqual(paused.body, [])
        const running = yield* Http.call(query("&state=running,paused&template=base"), { key })
        assert.strictEqual(running.body.length, 3)
        const v1 = yield* Http.call(`${url}/sandboxes?metadata=${encodeURIComponent(filter.toString())}`, {
          key,
        })
        assert.strictEqual(v1.body.length, 3)
        // Another tenant sees none of them; an admin sees them all.
        const other = yield* Http.call(query(""), { key: keys.tenantA })
        assert.deepStrictEqual(other.body, [])
        const admin = yield* Http.call(query(""), { key: keys.admin })
        assert.strictEqual(admin.body.length, 3)

        for (const bad of [
          "&state=gone",
          "&limit=0",
          "&limit=101",
          "&order=up",
          "&nextToken=xyz",
          "&startedAfter=soon",
        ]) {
          const rejected = yield* Http.call(query(bad), { key })
          assert.strictEqual(rejected.status, 400, bad)
          assert.strictEqual(rejected.body.code, 400)
        }
        for (const id of ids) yield* Http.call(`${url}/sandboxes/${id}`, { method: "DELETE", key })
      }),
    )

    it.effect("answers errors as E2B does: JSON {code, message} with the HTTP status", () =>
      Effect.gen(function* () {
        const { url, keys } = yield* Env
        const key = keys.tenantA
        // The shared Authentication middleware refuses; the body is E2B's, nothing else.
        const noKey = yield* Http.call(`${url}/v2/sandboxes`)
        assert.strictEqual(noKey.status, 401)
        assert.deepStrictEqual(Object.keys(noKey.body).sort(), ["code", "message"])
        assert.strictEqual(noKey.body.code, 401)
        assert.isNotEmpty(noKey.body.message)
        const badKey = yield* Http.call(`${url}/v2/sandboxes`, { key: `e2b_${"0".repeat(40)}` })
        assert.strictEqual(badKey.status, 401)
        assert.strictEqual(badKey.body.code, 401)
        const bearer = yield* Effect.promise(() =>
          fetch(`${url}/v2/sandboxes`, { headers: { authorization: `Bearer ${key}` } }),
        )
        assert.strictEqual(bearer.status, 200, "a bearer token carries the same key")
        // The key is checked before the body is read.
        const noKeyBadBody = yield* Http.call(`${url}/v2/sandboxes`, { method: "POST", rawBody: "{" })
        assert.strictEqual(noKeyBadBody.status, 401)

        const unknownTemplate = yield* Http.call(`${url}/v2/sandboxes`, {
          method: "POST",
          key,
          body: { templateID: "nope" },
        })
        assert.strictEqual(unknownTemplate.status, 404)
        assert.match(unknownTemplate.body.message, /template 'nope' not found/)
        // A body that is not JSON, or JSON that is not the schema's: 400 in E2B's shape.
        const badBody = yield* Http.call(`${url}/v2/sandboxes`, { method: "POST", key, rawBody: "{" })
        assert.strictEqual(badBody.status, 400)
        assert.deepStrictEqual(badBody.body, { code: 400, message: "the request body is not JSON" })
        const noTemplate = yield* Http.call(`${url}/v2/sandboxes`, { method: "POST", key, body: {} })
        assert.strictEqual(noTemplate.status, 400)
        assert.deepStrictEqual(Object.keys(noTemplate.body).sort(), ["code", "message"])
        assert.strictEqual(noTemplate.body.code, 400)
        assert.match(noTemplate.body.message, /templateID/)
        const badTimeout = yield* Http.call(`${url}/sandboxes/any/timeout`, {
          method: "POST",
          key,
          body: { timeout: "x" },
        })
        assert.strictEqual(badTimeout.status, 400)
        assert.strictEqual(badTimeout.body.code, 400)
        const badMetadata = yield* Http.call(`${url}/v2/sandboxes`, {
          method: "POST",
          key,
          body: { templateID: "base", metadata: { k: 1 } },
        })
        assert.strictEqual(badMetadata.status, 400)
        assert.strictEqual(badMetadata.body.code, 400)
        const badEnv = yield* Http.call(`${url}/v2/sandboxes`, {
          method: "POST",
          key,
          body: { templateID: "base", envVars: { "A;rm": "x" } },
        })
        assert.strictEqual(badEnv.status, 400)

        for (const body of [
          { templateID: "base", autoPause: true },
          { templateID: "base", volumeMounts: [{ name: "v", path: "/data" }] },
          { templateID: "base", allow_internet_access: false },
        ]) {
          const refused = yield* Http.call(`${url}/v2/sandboxes`, { method: "POST", key, body })
          assert.strictEqual(refused.status, 501, JSON.stringify(body))
          assert.strictEqual(refused.body.code, 501)
        }

        // A template tag names a runtime: one the template does not have is a clear 400.
        const unknownRuntime = yield* Http.call(`${url}/v2/sandboxes`, {
          method: "POST",
          key,
          body: { templateID: "base:python" },
        })
        assert.strictEqual(unknownRuntime.status, 400, JSON.stringify(unknownRuntime.body))
        assert.strictEqual(unknownRuntime.body.code, 400)

        const { sandboxID: id } = yield* E2bOperator.createSandbox(url, key)
        for (const [method, path] of [
          ["POST", `/sandboxes/${id}/pause`],
          ["POST", `/sandboxes/${id}/resume`],
          ["POST", `/sandboxes/${id}/snapshots`],
          ["GET", `/sandboxes/${id}/metrics`],
          ["GET", "/templates"],
          ["GET", "/volumes"],
        ] as const) {
          const refused = yield* Http.call(`${url}${path}`, {
            method,
            key,
            ...(method === "POST" ? { body: {} } : {}),
          })
          assert.strictEqual(refused.status, 501, path)
          assert.strictEqual(refused.body.code, 501)
          assert.match(refused.body.message, /not supported/)
        }
        const unknown = yield* Http.call(`${url}/nothing/here`, { key })
        assert.strictEqual(unknown.status, 404)
        assert.deepStrictEqual(unknown.body, { code: 404, message: "GET /nothing/here not found" })

        // Connect and refresh without a body (some SDK calls send none) read it as `{}`.
        const bare = yield* Effect.promise(() =>
          fetch(`${url}/sandboxes/${id}/connect`, { method: "POST", headers: { "x-api-key": key } }),
        )
        assert.strictEqual(bare.status, 200)
        const refreshed = yield* Effect.promise(() =>
          fetch(`${url}/sandboxes/${id}/refreshes`, { method: "POST", headers: { "x-api-key": key } }),
        )
        assert.strictEqual(refreshed.status, 204)

        // Another tenant's sandbox does not exist for this caller; an admin reaches it.
        const foreign = yield* Http.call(`${url}/sandboxes/${id}`, { key: keys.tenantB })
        assert.strictEqual(foreign.status, 404)
        const foreignKill = yield* Http.call(`${url}/sandboxes/${id}`, {
          method: "DELETE",
          key: keys.tenantB,
        })
        assert.strictEqual(foreignKill.status, 404)
        const admin = yield* Http.call(`${url}/sandboxes/${id}`, { key: keys.admin })
        assert.strictEqual(admin.status, 200)
        yield* Http.call(`${url}/sandboxes/${id}`, { method: "DELETE", key })
      }),
    )

    it.effect("routes the data plane by header or host and checks the access token", () =>
      Effect.gen(function* () {
        const { url, keys, domain, port } = yield* Env
        const { sandboxID: id, envdAccessToken: token } = yield* E2bOperator.createSandbox(url, keys.tenantA)
        const other = yield* E2bOperator.createSandbox(url, keys.tenantB)
        const stat = { path: "/" }
        const withToken = { "e2b-sandbox-id": id, "x-access-token": token }

        // KWOK runs the Pod's exec once it is Ready; the first calls may come before that.
        const ok = yield* Eventually.eventually(
          Effect.flatMap(envd(url, "/filesystem.Filesystem/Stat", withToken, stat), (r) =>
            r.status === 200 ? Effect.succeed(r) : Effect.fail(r),
          ),
          { timeout: "60 seconds" },
        )
        assert.strictEqual(JSON.parse(ok.text).entry.type, "FILE_TYPE_DIRECTORY")
        const health = yield* envd(url, "/health", withToken)
        assert.strictEqual(health.status, 204)

        // The `49983-<id>.<domain>` host names the sandbox without the header.
        const byHost = yield* Effect.promise(
          () =>
            new Promise<number>((resolve, reject) => {
              const request = httpRequest(
                {
                  host: "127.0.0.1",
                  port,
                  path: "/filesystem.Filesystem/Stat",
                  method: "POST",
                  headers: {
                    host: `49983-${id}.${domain}`,
                    "x-access-token": token,
                    "content-type": "application/json",
                  },
                },
                (response) => {
                  response.resume()
                  resolve(response.statusCode ?? 0)
                },
              )
              request.on("error", reject)
              request.end(JSON.stringify(stat))
            }),
        )
        assert.strictEqual(byHost, 200)

        // Without the header (older Python SDKs after connect) the token alone names the sandbox.
        const byToken = yield* envd(url, "/filesystem.Filesystem/Stat", { "x-access-token": token }, stat)
        assert.strictEqual(byToken.status, 200)

        const missing = yield* envd(url, "/filesystem.Filesystem/Stat", { "e2b-sandbox-id": id }, stat)
        assert.strictEqual(missing.status, 401)
        const wrong = yield* envd(
          url,
          "/filesystem.Filesystem/Stat",
          { "e2b-sandbox-id": id, "x-access-token": `${token}x` },
          stat,
        )
        assert.strictEqual(wrong.status, 401)
        // A token opens its own sandbox only, and /files wants one too.
        const crossed = yield* envd(
          url,
          "/filesystem.Filesystem/Stat",
          { "e2b-sandbox-id": other.sandboxID, "x-access-token": token },
          stat,
        )
        assert.strictEqual(crossed.status, 401)
        const file = yield* envd(url, `/files?path=${encodeURIComponent("/etc/hostname")}`, {
          "e2b-sandbox-id": id,
        })
        assert.strictEqual(file.status, 401)

        const unknown = yield* envd(
          url,
          "/filesystem.Filesystem/Stat",
          { "e2b-sandbox-id": "nosuchsandbox", "x-access-token": token },
          stat,
        )
        // Connect's "unavailable" (503), which the SDKs read as "sandbox gone"; plain paths say 502.
        assert.strictEqual(unknown.status, 503)
        assert.strictEqual(JSON.parse(unknown.text).code, "unavailable")
        assert.match(unknown.text, /was not found/)

        // Once killed, the sandbox is gone from the data plane too.
        yield* Http.call(`${url}/sandboxes/${id}`, { method: "DELETE", key: keys.tenantA })
        const gone = yield* envd(url, "/health", withToken)
        assert.strictEqual(gone.status, 502)
        yield* Http.call(`${url}/sandboxes/${other.sandboxID}`, { method: "DELETE", key: keys.tenantB })
      }),
    )
  },
)
