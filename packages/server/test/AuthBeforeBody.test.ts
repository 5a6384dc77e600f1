/**
 * The key is checked before the body is read: a caller without a valid API key (REST :8080, Effect
 * RPC's POST /rpc, the E2B API :8090) or access token (envd on :8090) gets 401 whatever it sends,
 * even a body that is not JSON or never ends, and the server reads none of it; with the key, the
 * same body is the API's 400 (RPC: the protocol's own answer).
 */
import { TestCluster } from "@agent-sandbox/testing"
import { E2bOperator } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { sendChunked } from "./RawHttp.ts"

class Env extends Context.Tag("AuthBeforeBodyEnv")<Env, E2bOperator.E2bOperator>() {}

const env = Layer.scoped(Env, E2bOperator.start({ prefix: "authfirst", pool: { replicas: 1 } })).pipe(
  Layer.provideMerge(TestCluster.layer),
)

const notJson = "{not json"

/** A POST with `body` as is, under `contentType`, with `headers`. */
const post = (url: string, headers: Record<string, string>, body: string, contentType = "application/json") =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": contentType, ...headers },
      body,
    })
    const text = await response.text()
    let json: unknown = text
    try {
      json = JSON.parse(text)
    } catch {}
    // biome-ignore lint/suspicious/noExplicitAny: the reply, read as JSON
    return { status: response.status, body: json as any, text }
  })

const head = (path: string, headers: Record<string, string>) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("")}Content-Type: application/json\r\n`

/** 1 MiB of a chunked body that never ends, starting as broken JSON. */
const endless = (port: number, path: string, headers: Record<string, string>) =>
  sendChunked(port, head(path, headers), 1024 * 1024, false, notJson)

layer(env, { timeout: "120 seconds", excludeTestServices: true })("the key before the body", (it) => {
  it.effect(":8080: no key or a wrong one is 401 whatever the body; with a key a bad body is 400", () =>
    Effect.gen(function* () {
      const { apiUrl, keys } = yield* Env
      const create = `${apiUrl}/v1/sandboxes`
      for (const headers of [{}, { "x-api-key": "e2b_0000000000000000000000000000000000000000" }]) {
        const bad = yield* post(create, headers, notJson)
        assert.strictEqual(bad.status, 401, bad.text)
        assert.strictEqual(bad.body._tag, "Unauthorized")
        const multipart = yield* post(create, headers, "--x--", "multipart/form-data")
        assert.strictEqual(multipart.status, 401, multipart.text)
      }
      const keyed = yield* post(create, { "x-api-key": keys.tenantA }, notJson)
      assert.strictEqual(keyed.status, 400, keyed.text)
      assert.deepStrictEqual(keyed.body, {
        _tag: "InvalidRequest",
        message: "the request body is not valid JSON",
      })
      // A body that never ends: answered at once, the connection closed, nothing of it read.
      const endlessReply = yield* endless(Number(new URL(apiUrl).port), "/v1/sandboxes", {})
      assert.match(endlessReply.head, /^HTTP\/1\.1 401/)
      assert.match(endlessReply.head, /connection: close/i)
      assert.strictEqual((endlessReply.json as { _tag: string })._tag, "Unauthorized")
    }),
  )

  it.effect(":8080 POST /rpc: no key in the headers is 401 before the NDJSON body is parsed", () =>
    Effect.gen(function* () {
      const { apiUrl, keys } = yield* Env
      const rpc = `${apiUrl}/rpc`
      const ndjson = "application/ndjson"
      const call = (key: string) =>
        `${JSON.stringify({ _tag: "Request", id: "1", tag: "list", payload: {}, headers: [["x-api-key", key]] })}\n`
      for (const headers of [{}, { "x-api-key": "e2b_0000000000000000000000000000000000000000" }]) {
        const bad = yield* post(rpc, headers, notJson, ndjson)
        assert.strictEqual(bad.status, 401, bad.text)
        assert.deepStrictEqual(bad.body, {
          _tag: "Unauthorized",
          message: "a valid API key is required (x-api-key header) to POST /rpc",
        })
        // A key only inside the message is no longer enough: the body is not read to find it.
        const inMessage = yield* post(rpc, headers, call(keys.tenantA), ndjson)
        assert.strictEqual(inMessage.status, 401, inMessage.text)
      }
      // With the key the body goes to the RPC protocol, which answers broken NDJSON with a 200 of
      // its own and a real call with its result.
      const keyedBad = yield* post(rpc, { "x-api-key": keys.tenantA }, notJson, ndjson)
      assert.strictEqual(keyedBad.status, 200, keyedBad.text)
      const keyed = yield* post(rpc, { "x-api-key": keys.tenantA }, call(keys.tenantA), ndjson)
      assert.strictEqual(keyed.status, 200, keyed.text)
      assert.match(keyed.text, /"_tag":"Exit".*"_tag":"Success"/)
      const endlessReply = yield* endless(Number(new URL(apiUrl).port), "/rpc", {})
      assert.match(endlessReply.head, /^HTTP\/1\.1 401/)
      assert.match(endlessReply.head, /connection: close/i)
      assert.strictEqual((endlessReply.json as { _tag: string })._tag, "Unauthorized")
    }),
  )

  it.effect(":8090 E2B API: no key is 401 whatever the body; with a key a bad body is 400", () =>
    Effect.gen(function* () {
      const { url, port, keys } = yield* Env
      const bad = yield* post(`${url}/v2/sandboxes`, {}, notJson)
      assert.strictEqual(bad.status, 401, bad.text)
      assert.strictEqual(bad.body.code, 401)
      const keyed = yield* post(`${url}/v2/sandboxes`, { "x-api-key": keys.tenantA }, notJson)
      assert.strictEqual(keyed.status, 400, keyed.text)
      assert.strictEqual(keyed.body.code, 400)
      const endlessReply = yield* endless(port, "/v2/sandboxes", {})
      assert.match(endlessReply.head, /^HTTP\/1\.1 401/)
      assert.match(endlessReply.head, /connection: close/i)
      assert.strictEqual((endlessReply.json as { code: number }).code, 401)
    }),
  )

  it.effect(
    "envd on :8090: a wrong access token is unauthenticated whatever the body; the right one reads it",
    () =>
      Effect.gen(function* () {
        const { url, port, keys } = yield* Env
        const created = yield* E2bOperator.createSandbox(url, keys.tenantA)
        const sandbox = {
          "e2b-sandbox-id": created.sandboxID,
          "connect-protocol-version": "1",
        }
        const wrong = { ...sandbox, "x-access-token": `${created.sandboxID}.00000000.AAAA` }
        const right = { ...sandbox, "x-access-token": created.envdAccessToken }
        const list = `${url}/process.Process/List`

        const refused = yield* post(list, wrong, notJson)
        assert.strictEqual(refused.status, 401, refused.text)
        assert.strictEqual(refused.body.code, "unauthenticated")
        const noToken = yield* post(list, sandbox, notJson)
        assert.strictEqual(noToken.status, 401, noToken.text)
        const parsed = yield* post(list, right, notJson)
        assert.strictEqual(parsed.status, 400, parsed.text)
        assert.strictEqual(parsed.body.code, "invalid_argument")
        // A server stream (Connect's streaming protocol): the error is its end-stream frame.
        const stream = yield* post(`${url}/process.Process/Start`, wrong, notJson, "application/connect+json")
        assert.strictEqual(stream.status, 200, stream.text)
        assert.match(stream.text, /"code":"unauthenticated"/)
        const endlessReply = yield* endless(port, "/process.Process/List", wrong)
        assert.match(endlessReply.head, /^HTTP\/1\.1 401/)
        assert.match(endlessReply.head, /connection: close/i)
        assert.strictEqual((endlessReply.json as { code: string }).code, "unauthenticated")
      }),
  )
})
