/**
 * Issue 13's bounds on the API ports, against a replica on the local control plane: JSON bodies
 * over the limit on :8080 (REST, RPC) and :8090 (E2B API), and /files uploads over theirs, are 413
 * in each API's error shape, with or without a Content-Length (a chunked body is answered while
 * the client is still sending, the connection closed after the answer); a client trickling its
 * headers or body on :8090 is cut off.
 */
import { connect } from "node:net"
import { TestCluster } from "@agent-sandbox/testing"
import { E2bOperator } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { sendChunked } from "./RawHttp.ts"

const defaultLimit = 1024 * 1024
const uploadLimit = 256 * 1024

class Env extends Context.Tag("RequestBoundsEnv")<Env, E2bOperator.E2bOperator>() {}

const env = Layer.scoped(
  Env,
  // The body limit keeps its default (1 MiB); the :8090 timeouts are short so the test can reach them.
  E2bOperator.start({
    prefix: "bounds",
    pool: { replicas: 1 },
    limits: { headersTimeoutMillis: 500, requestTimeoutMillis: 5000, maxUploadBytes: uploadLimit },
  }),
).pipe(Layer.provideMerge(TestCluster.layer))

/** A JSON body of `bytes` bytes (a create whose metadata is one long value). */
const bigJson = (bytes: number) => `{"pool":"base","metadata":{"k":"${"x".repeat(bytes)}"}}`

interface Reply {
  readonly status: number
  // biome-ignore lint/suspicious/noExplicitAny: the reply, read as JSON
  readonly body: any
}

/** POSTs `body` with fetch; status 0 when the server closed the connection under the upload. */
const post = (url: string, key: string, body: string, chunked: boolean) =>
  Effect.promise(async (): Promise<Reply> => {
    const payload = new TextEncoder().encode(body)
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key },
      // A stream has no Content-Length: it arrives chunked and must be cut off while read.
      ...(chunked
        ? {
            body: new ReadableStream({
              start(controller) {
                for (let at = 0; at < payload.length; at += 64 * 1024) {
                  controller.enqueue(payload.subarray(at, at + 64 * 1024))
                }
                controller.close()
              },
            }),
            duplex: "half",
          }
        : { body: payload }),
    } as RequestInit).catch((error: unknown) => error)
    if (!(response instanceof Response)) return { status: 0, body: String(response) }
    const text = await response.text()
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) }
  })

const over = 3 * 1024 * 1024

/** Sends `head` (and keeps the connection open without more); what the server answers before it closes. */
const trickle = (port: number, head: string) =>
  Effect.async<string>((resume) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(head))
    let received = ""
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8")
    })
    socket.on("close", () => resume(Effect.succeed(received)))
    socket.on("error", () => undefined)
    return Effect.sync(() => socket.destroy())
  })

layer(env, { timeout: "120 seconds", excludeTestServices: true })("request bounds", (it) => {
  it.effect("a 12 MiB JSON body is 413 PayloadTooLarge on :8080, REST and RPC, declared or chunked", () =>
    Effect.gen(function* () {
      const { apiUrl, keys } = yield* Env
      const reply = yield* post(`${apiUrl}/v1/sandboxes`, keys.tenantA, bigJson(12 * 1024 * 1024), false)
      assert.strictEqual(reply.status, 413, JSON.stringify(reply.body))
      assert.deepStrictEqual(reply.body, {
        _tag: "PayloadTooLarge",
        limitBytes: defaultLimit,
        message: `the request body exceeds the limit of ${defaultLimit} bytes`,
      })
      const chunked = yield* post(`${apiUrl}/v1/sandboxes`, keys.tenantA, bigJson(12 * 1024 * 1024), true)
      assert.strictEqual(chunked.status, 413, JSON.stringify(chunked))
      assert.deepStrictEqual(chunked.body, reply.body)
      const overRpc = yield* post(`${apiUrl}/rpc`, keys.tenantA, bigJson(2 * 1024 * 1024), false)
      assert.strictEqual(overRpc.status, 413)
      assert.strictEqual(overRpc.body._tag, "PayloadTooLarge")
      // Under the limit the same route still answers as usual (here: the pool's own 404 would be a bug).
      const small = yield* post(`${apiUrl}/v1/sandboxes`, keys.tenantA, bigJson(16), false)
      assert.strictEqual(small.status, 201, JSON.stringify(small.body))
    }),
  )

  it.effect("a 12 MiB JSON body is E2B's 413 on :8090, declared or chunked", () =>
    Effect.gen(function* () {
      const { url, keys } = yield* Env
      const declared = yield* post(`${url}/v2/sandboxes`, keys.tenantA, bigJson(12 * 1024 * 1024), false)
      assert.strictEqual(declared.status, 413)
      assert.deepStrictEqual(declared.body, {
        code: 413,
        message: `the request body exceeds the limit of ${defaultLimit} bytes`,
      })
      const chunked = yield* post(`${url}/v2/sandboxes`, keys.tenantA, bigJson(12 * 1024 * 1024), true)
      assert.strictEqual(chunked.status, 413, JSON.stringify(chunked))
      assert.deepStrictEqual(chunked.body, declared.body)
    }),
  )

  it.effect(
    "a chunked body over the limit is answered 413 before the client has finished sending, on both ports",
    () =>
      Effect.gen(function* () {
        const { apiUrl, port, keys } = yield* Env
        const apiPort = Number(new URL(apiUrl).port)
        const json = "Content-Type: application/json\r\n"
        const at = (path: string, key: string) =>
          `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${key}\r\n${json}`
        // 3 MiB sent of a body that never ends: the server answers at the limit, then closes.
        const rest = yield* sendChunked(apiPort, at("/v1/sandboxes", keys.tenantA), over, false)
        assert.match(rest.head, /^HTTP\/1\.1 413/)
        assert.match(rest.head, /connection: close/i)
        assert.deepStrictEqual(rest.json, {
          _tag: "PayloadTooLarge",
          limitBytes: defaultLimit,
          message: `the request body exceeds the limit of ${defaultLimit} bytes`,
        })
        const rpc = yield* sendChunked(apiPort, at("/rpc", keys.tenantA), over, false)
        assert.match(rpc.head, /^HTTP\/1\.1 413/)
        assert.strictEqual((rpc.json as { _tag: string })._tag, "PayloadTooLarge")
        const e2b = yield* sendChunked(port, at("/v2/sandboxes", keys.tenantA), over, false)
        assert.match(e2b.head, /^HTTP\/1\.1 413/)
        assert.deepStrictEqual(e2b.json, {
          code: 413,
          message: `the request body exceeds the limit of ${defaultLimit} bytes`,
        })
        // Under the limit, chunked bodies are read whole and answered as usual (the pool named is read).
        const small = (name: string) => `{"pool":"${name}","templateID":"${name}"}`
        const restSmall = yield* sendChunked(
          apiPort,
          at("/v1/sandboxes", keys.tenantA),
          0,
          true,
          small("nope"),
        )
        assert.match(restSmall.head, /^HTTP\/1\.1 404/)
        assert.strictEqual((restSmall.json as { _tag: string })._tag, "PoolNotFound")
        const e2bSmall = yield* sendChunked(port, at("/v2/sandboxes", keys.tenantA), 0, true, small("nope"))
        assert.match(e2bSmall.head, /^HTTP\/1\.1 404/)
        assert.match((e2bSmall.json as { message: string }).message, /template 'nope' not found/)
      }),
  )

  it.effect(
    "a chunked /files upload over its limit on :8090 is 413 before the client has finished sending",
    () =>
      Effect.gen(function* () {
        const { url, port, keys } = yield* Env
        const created = yield* E2bOperator.createSandbox(url, keys.tenantA)
        const head =
          `POST /files?path=%2Ftmp%2Fbig.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          `E2b-Sandbox-Id: ${created.sandboxID}\r\nX-Access-Token: ${created.envdAccessToken}\r\n` +
          "Content-Type: application/octet-stream\r\n"
        const reply = yield* sendChunked(port, head, over, false)
        assert.match(reply.head, /^HTTP\/1\.1 413/)
        assert.deepStrictEqual(reply.json, {
          code: 413,
          message: `the upload exceeds the limit of ${uploadLimit} bytes`,
        })
      }),
  )

  it.effect(":8090 cuts off a client that trickles its headers or its body (408, connection closed)", () =>
    Effect.gen(function* () {
      const { port, keys } = yield* Env
      const headers = yield* trickle(port, "POST /v2/sandboxes HTTP/1.1\r\nHost: 127.0.0.1\r\n")
      assert.match(headers, /^HTTP\/1\.1 408/)
      const body = yield* trickle(
        port,
        // With a valid key, so the API has to read the body it was promised.
        `POST /v2/sandboxes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${keys.tenantA}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"templa`,
      )
      assert.match(body, /^HTTP\/1\.1 408/)
    }),
  )
})
