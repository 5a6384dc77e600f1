/**
 * Envoy resets every ext_proc stream once its request is done. Past Node's default rapid-reset
 * guard (a burst of 1,000, then 33 a second) the server would end the HTTP/2 session with a
 * GOAWAY and Envoy would fail the requests on it; the extproc's server must take them.
 */
import * as http2 from "node:http2"
import type { SandboxIdFormat } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as ClusterTable from "../src/ClusterTable.ts"
import * as ExtProcServer from "../src/ExtProcServer.ts"
import * as LocalSandboxes from "../src/LocalSandboxes.ts"
import * as Responses from "../src/Responses.ts"
import * as RouteState from "../src/RouteState.ts"

const server = ExtProcServer.layer({
  host: "127.0.0.1",
  port: 0,
  decision: { domain: "sandbox.test", staleAfterMillis: 60_000 },
  headers: Responses.defaultHeaderNames,
}).pipe(
  Layer.provide(LocalSandboxes.layerFrom(() => undefined)),
  Layer.provide(
    RouteState.layer({
      initial: ClusterTable.make("a" as SandboxIdFormat.ClusterTag, "127.0.0.1:8090"),
      maxActivity: 2,
    }),
  ),
)

const processPath = "/envoy.service.ext_proc.v3.ExternalProcessor/Process"
const grpcHeaders = {
  ":method": "POST",
  ":path": processPath,
  "content-type": "application/grpc",
  te: "trailers",
}

/** Opens `count` streams on one session and resets each at once, as Envoy does per request. */
const resetStreams = (session: http2.ClientHttp2Session, count: number) =>
  Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const stream = session.request(grpcHeaders)
          stream.on("error", () => resolve())
          stream.on("close", () => resolve())
          stream.on("ready", () => stream.close(http2.constants.NGHTTP2_CANCEL))
        }),
    ),
  )

/** One more stream on the session: its response status, or the error that refused it. */
const oneMore = (session: http2.ClientHttp2Session) =>
  new Promise<string>((resolve) => {
    const stream = session.request(grpcHeaders, { endStream: true })
    stream.on("response", (headers) => resolve(`status ${headers[":status"]}`))
    stream.on("error", (error) => resolve(`error ${error.message}`))
    stream.on("close", () => resolve(`closed (code ${stream.rstCode})`))
  })

describe("the extproc's gRPC server under Envoy's per-request stream resets", () => {
  it.layer(server)((it) => {
    it.scoped("keeps the session through 3,000 resets in a row", () =>
      Effect.gen(function* () {
        const { port } = yield* ExtProcServer.ExtProcServer
        const session = yield* Effect.acquireRelease(
          Effect.sync(() => http2.connect(`http://127.0.0.1:${port}`)),
          (s) => Effect.sync(() => s.destroy()),
        )
        let goaway: number | undefined
        session.on("goaway", (code) => {
          goaway = code
        })
        session.on("error", () => undefined)
        yield* Effect.promise(() => resetStreams(session, 3_000))
        const answer = yield* Effect.promise(() => oneMore(session))
        assert.strictEqual(goaway, undefined, "the server sent a GOAWAY")
        assert.strictEqual(answer, "status 200")
      }),
    )
  })
})
