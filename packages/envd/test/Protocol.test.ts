import { createServer } from "node:http2"
import { createClient } from "@connectrpc/connect"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Filesystem } from "../src/gen/filesystem/filesystem_pb.ts"
import { Process } from "../src/gen/process/process_pb.ts"
import {
  accessToken,
  EnvdServer,
  layer as envdLayer,
  filesystemClient,
  headers,
  listen,
  transport,
} from "./EnvdCluster.ts"

/** Connect's envelope: flags byte, big-endian length, payload. */
const envelope = (flags: number, payload: Uint8Array) => {
  const frame = new Uint8Array(5 + payload.length)
  frame[0] = flags
  new DataView(frame.buffer).setUint32(1, payload.length)
  frame.set(payload, 5)
  return frame
}

interface ErrorBody {
  readonly code: string | number
  readonly message: string
}

const json = (response: Response) => Effect.promise(() => response.json() as Promise<ErrorBody>)

/** The end-of-stream message of a Connect streaming response. */
const endOfStream = (body: Uint8Array) => {
  let offset = 0
  while (offset + 5 <= body.length) {
    const flags = body[offset]!
    const length = new DataView(body.buffer, body.byteOffset + offset + 1, 4).getUint32(0)
    const payload = body.subarray(offset + 5, offset + 5 + length)
    if ((flags & 0x02) !== 0) return JSON.parse(new TextDecoder().decode(payload))
    offset += 5 + length
  }
  return undefined
}

layer(envdLayer("envd-protocol"), { timeout: "3 minutes", excludeTestServices: true })(
  "the Connect protocol edge",
  (it) => {
    it.effect("a server stream ends with an end-stream frame, as the SDKs read it", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const request = new TextEncoder().encode(
          JSON.stringify({ process: { cmd: "/bin/bash", args: ["-l", "-c", "echo hi"] }, stdin: false }),
        )
        const response = yield* Effect.promise(() =>
          fetch(`${url}/process.Process/Start`, {
            method: "POST",
            body: envelope(0, request),
            headers: {
              ...headers,
              "content-type": "application/connect+json",
              "keepalive-ping-interval": "50",
            },
          }),
        )
        assert.strictEqual(response.status, 200)
        const body = new Uint8Array(yield* Effect.promise(() => response.arrayBuffer()))
        assert.deepStrictEqual(endOfStream(body), {})
        assert.include(new TextDecoder().decode(body), '"stdout":"aGkK"')
      }),
    )

    it.effect("malformed requests get clear Connect errors and the server keeps serving", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const badJson = yield* Effect.promise(() =>
          fetch(`${url}/filesystem.Filesystem/Stat`, {
            method: "POST",
            body: "{not json",
            headers: { ...headers, "content-type": "application/json" },
          }),
        )
        assert.strictEqual(badJson.status, 400)
        assert.strictEqual((yield* json(badJson)).code, "invalid_argument")

        const truncated = yield* Effect.promise(() =>
          fetch(`${url}/process.Process/Start`, {
            method: "POST",
            body: envelope(0, new TextEncoder().encode('{"process":')).subarray(0, 12),
            headers: { ...headers, "content-type": "application/connect+json" },
          }),
        )
        const end = endOfStream(new Uint8Array(yield* Effect.promise(() => truncated.arrayBuffer())))
        assert.isString(end?.error?.code)

        const unknownMethod = yield* Effect.promise(() =>
          fetch(`${url}/process.Process/Teleport`, {
            method: "POST",
            body: "{}",
            headers: { ...headers, "content-type": "application/json" },
          }),
        )
        assert.strictEqual(unknownMethod.status, 404)
        assert.strictEqual((yield* json(unknownMethod)).code, "unimplemented")

        const stillServing = yield* Effect.promise(() => filesystemClient(url).stat({ path: "/" }))
        assert.strictEqual(stillServing.entry?.path, "/")
      }),
    )

    it.effect("an unknown sandbox is unavailable ('was not found'), a wrong token unauthenticated", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const unknown = yield* Effect.promise(() =>
          fetch(`${url}/filesystem.Filesystem/Stat`, {
            method: "POST",
            body: '{"path":"/"}',
            headers: {
              "content-type": "application/json",
              "e2b-sandbox-id": "nope",
              "x-access-token": accessToken,
            },
          }),
        )
        const unknownBody = yield* json(unknown)
        assert.strictEqual(unknownBody.code, "unavailable")
        assert.include(unknownBody.message, "was not found")

        const wrongToken = yield* Effect.promise(() =>
          fetch(`${url}/files?path=/`, { headers: { ...headers, "x-access-token": "wrong" } }),
        )
        assert.strictEqual(wrongToken.status, 401)

        const health = yield* Effect.promise(() => fetch(`${url}/health`, { headers }))
        assert.strictEqual(health.status, 204)
        const gone = yield* Effect.promise(() =>
          fetch(`${url}/health`, { headers: { "e2b-sandbox-id": "nope" } }),
        )
        assert.strictEqual(gone.status, 502)
      }),
    )

    it.scoped("serves HTTP/2 and the binary codec too", () =>
      Effect.gen(function* () {
        const { handler } = yield* EnvdServer
        const url = yield* listen(createServer(handler))
        const binary = createClient(Process, transport(url, "2", true))
        let stdout = ""
        yield* Effect.promise(async () => {
          for await (const { event } of binary.start({
            process: { cmd: "/bin/sh", args: ["-c", "echo h2"] },
          })) {
            if (event?.event.case === "data" && event.event.value.output.case === "stdout") {
              stdout += new TextDecoder().decode(event.event.value.output.value)
            }
          }
        })
        assert.strictEqual(stdout, "h2\n")
        const stat = yield* Effect.promise(() =>
          createClient(Filesystem, transport(url, "2")).stat({ path: "/" }),
        )
        assert.strictEqual(stat.entry?.path, "/")
      }),
    )
  },
)
