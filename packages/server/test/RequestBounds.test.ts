/**
 * Issue 13's bounds on the API ports, against a replica on the local control plane: JSON bodies
 * over the limit on :8080 (REST, RPC) and :8090 (E2B API) are 413 in each API's error shape, with
 * or without a Content-Length; a client trickling its headers or body on :8090 is cut off.
 */
import { connect } from "node:net"
import { TestCluster } from "@agent-sandbox/testing"
import { E2bOperator } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"

class Env extends Context.Tag("RequestBoundsEnv")<Env, E2bOperator.E2bOperator>() {}

const env = Layer.scoped(
  Env,
  // The body limit keeps its default (1 MiB); the :8090 timeouts are short so the test can reach them.
  E2bOperator.start({
    prefix: "bounds",
    pool: { replicas: 1 },
    limits: { headersTimeoutMillis: 500, requestTimeoutMillis: 5000 },
  }),
).pipe(Layer.provideMerge(TestCluster.layer))

const defaultLimit = 1024 * 1024

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

/**
 * A chunked body over the limit stops being read there: the answer is the 413, or, when the
 * platform has already dropped the connection under the upload, no answer at all. Never a 2xx or 5xx.
 */
const cutOff = (reply: Reply) => reply.status === 413 || reply.status === 0

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
      assert.isTrue(cutOff(chunked), JSON.stringify(chunked))
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
      assert.isTrue(cutOff(chunked), JSON.stringify(chunked))
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
