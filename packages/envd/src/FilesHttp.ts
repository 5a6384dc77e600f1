/**
 * The plain HTTP endpoints envd serves beside Connect: `GET /files` (a file's raw bytes),
 * `POST /files` (multipart parts named `file`, or a raw application/octet-stream body) and
 * `GET /health`. Errors are envd's JSON `{"code": <status>, "message": ...}`.
 */
import { createReadStream, createWriteStream } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, posix } from "node:path"
import { pipeline as pipeStreams, type Readable, Transform } from "node:stream"
import { pipeline } from "node:stream/promises"
import { createGunzip } from "node:zlib"
import Busboy from "busboy"
import { Cause, Effect, Exit, Option, Runtime, Schema, Stream } from "effect"
import { type EnvdError, envdError, fromResolveError, httpStatus } from "./EnvdError.ts"
import { SandboxFiles } from "./SandboxFiles.ts"
import type { EnvdRequest, ResolveSandbox, SandboxTarget } from "./SandboxTarget.ts"

/** What we use of a Node.js response; both http.ServerResponse and http2.Http2ServerResponse fit. */
export interface EnvdResponse {
  readonly headersSent: boolean
  readonly writableEnded: boolean
  writeHead(status: number, headers?: Record<string, string | number>): unknown
  write(chunk: Uint8Array): boolean
  end(chunk?: string | Uint8Array): unknown
  destroy(error?: Error): unknown
  once(event: "drain", listener: () => void): unknown
  off(event: "drain", listener: () => void): unknown
  on(event: "close", listener: () => void): unknown
}

/** What the upload endpoint answers per written file. */
export interface WrittenFile {
  readonly path: string
  readonly name: string
  readonly type: "file"
}

const sendJson = (res: EnvdResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

/** An upload larger than the server takes, as sent or once gunzipped: 413, and nothing is written. */
export class UploadTooLarge extends Schema.TaggedError<UploadTooLarge>()("UploadTooLarge", {
  limitBytes: Schema.Number,
  message: Schema.String,
}) {}

export interface FilesHttpLimits {
  /** Largest upload, in bytes: the request body, and again its content after gunzip. */
  readonly maxUploadBytes: number
}

const tooLarge = (limitBytes: number) =>
  new UploadTooLarge({ limitBytes, message: `the upload exceeds the limit of ${limitBytes} bytes` })

/** What a byte counter throws when a body passes its limit. */
class OverLimit extends Error {}

/** Passes bytes through until `maxBytes` have gone by, then fails the stream (no more is read). */
const capped = (maxBytes: number): Transform => {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length
      if (seen > maxBytes) callback(new OverLimit(`more than ${maxBytes} bytes`))
      else callback(null, chunk)
    },
  })
}

/**
 * An error answer. When the request's body was not read to its end (a refused or oversized
 * upload) the connection closes after the answer: Node would otherwise read and discard the rest,
 * however long, to keep the connection.
 */
const sendError = (req: EnvdRequest, res: EnvdResponse, error: EnvdError | UploadTooLarge): void => {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const status = error._tag === "UploadTooLarge" ? 413 : httpStatus(error.code)
  const text = JSON.stringify({ code: status, message: error.message })
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...(req.httpVersionMajor === 1 && !req.complete ? { connection: "close" } : {}),
  })
  res.end(text)
}

/** Writes one chunk, waiting for the client to drain; fails if the client went away. */
const writeChunk = (res: EnvdResponse, chunk: Uint8Array): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (res.write(chunk)) return resume(Effect.void)
    const onDrain = () => resume(Effect.void)
    res.once("drain", onDrain)
    return Effect.sync(() => res.off("drain", onDrain))
  })

/**
 * The request body, at most `maxBytes` as sent and (when gzipped) as inflated: a small gzip body
 * cannot expand into a full disk. Any stream failing fails the last one. The request is piped by
 * hand, not through a pipeline: a pipeline would destroy it at the limit, and destroying an
 * unfinished request destroys its connection, the one the 413 has to go out on. It is only
 * unpiped and paused, and the answer closes the connection.
 */
const bodyOf = (req: EnvdRequest, maxBytes: number): Readable => {
  const request = req as Readable
  const sent = capped(maxBytes)
  sent.once("close", () => {
    request.unpipe(sent)
    if (!request.readableEnded) request.pause()
  })
  request.pipe(sent)
  return req.headers["content-encoding"] === "gzip"
    ? pipeStreams(sent, createGunzip(), capped(maxBytes), () => {})
    : sent
}

/** A spool failure: over the limit (413), else the body was unreadable (400). */
const spoolFailure = (what: string, maxBytes: number) => (cause: unknown) =>
  cause instanceof OverLimit ? tooLarge(maxBytes) : badRequest(`${what}: ${String(cause)}`)

const readableBytes = (readable: Readable): Stream.Stream<Uint8Array> =>
  Stream.fromAsyncIterable(readable as AsyncIterable<Uint8Array>, (cause) => cause).pipe(Stream.orDie)

interface SpooledPart {
  readonly filename: string | undefined
  readonly file: string
  readonly size: number
}

/** Parts named `file`, each copied to a file in `dir` (so its size is known before it is sent on). */
const spoolMultipart = (req: EnvdRequest, body: Readable, dir: string): Promise<Array<SpooledPart>> =>
  new Promise((resolve, reject) => {
    const parts: Array<Promise<SpooledPart>> = []
    const parser = Busboy({ headers: req.headers as Record<string, string>, preservePath: true })
    parser.on("file", (name, stream, info) => {
      if (name !== "file") {
        stream.resume()
        return
      }
      const file = join(dir, `part-${parts.length}`)
      let size = 0
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length
      })
      parts.push(
        pipeline(stream, createWriteStream(file)).then(() => ({ filename: info.filename, file, size })),
      )
    })
    parser.on("error", reject)
    parser.on("close", () => {
      Promise.all(parts).then(resolve, reject)
    })
    body.on("error", (error) => {
      parser.destroy()
      reject(error)
    })
    body.pipe(parser)
  })

const spoolRaw = async (body: Readable, dir: string): Promise<SpooledPart> => {
  const file = join(dir, "body")
  let size = 0
  body.on("data", (chunk: Buffer) => {
    size += chunk.length
  })
  await pipeline(body, createWriteStream(file))
  return { filename: undefined, file, size }
}

const spoolDirectory = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "envd-upload-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
)

const badRequest = (message: string) => envdError("invalid_argument", message)

const upload = (req: EnvdRequest, url: URL, target: SandboxTarget, limits: FilesHttpLimits) =>
  Effect.gen(function* () {
    const files = yield* SandboxFiles
    const max = limits.maxUploadBytes
    const queryPath = url.searchParams.get("path") ?? undefined
    const mediaType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
    const gzip = req.headers["content-encoding"] === "gzip"
    const length = Number(req.headers["content-length"])
    if (Number.isFinite(length) && length > max) return yield* Effect.fail(tooLarge(max))
    const written: Array<WrittenFile> = []
    const writeOne = (path: string, size: number, bytes: Stream.Stream<Uint8Array>) =>
      Effect.gen(function* () {
        const entry = yield* files.write(target, path, size, bytes)
        written.push({ path: entry.path, name: posix.basename(entry.path), type: "file" })
      })

    if (mediaType === "application/octet-stream") {
      if (queryPath === undefined) {
        return yield* Effect.fail(badRequest("path query parameter is required for raw body upload"))
      }
      if (!gzip && Number.isSafeInteger(length) && length >= 0) {
        yield* writeOne(queryPath, length, readableBytes(req as Readable))
      } else {
        const dir = yield* spoolDirectory
        const part = yield* Effect.tryPromise({
          try: () => spoolRaw(bodyOf(req, max), dir),
          catch: spoolFailure("error reading request body", max),
        })
        yield* writeOne(queryPath, part.size, readableBytes(createReadStream(part.file)))
      }
      return written
    }
    if (mediaType.startsWith("multipart/")) {
      const dir = yield* spoolDirectory
      const parts = yield* Effect.tryPromise({
        try: () => spoolMultipart(req, bodyOf(req, max), dir),
        catch: spoolFailure("error reading form", max),
      })
      const seen = new Set<string>()
      for (const part of parts) {
        const destination = queryPath ?? part.filename
        if (destination === undefined || destination === "") {
          return yield* Effect.fail(badRequest("a file part needs a filename or the path query parameter"))
        }
        const resolved = yield* files.resolve(target, destination)
        if (seen.has(resolved)) {
          return yield* Effect.fail(
            badRequest(
              `you cannot upload multiple files to the same path '${resolved}' in one upload request, only the first specified file was uploaded`,
            ),
          )
        }
        seen.add(resolved)
        yield* writeOne(resolved, part.size, readableBytes(createReadStream(part.file)))
      }
      return written
    }
    return yield* Effect.fail(
      badRequest(
        `unsupported content type: ${req.headers["content-type"] ?? ""}, expected multipart/form-data or application/octet-stream`,
      ),
    )
  }).pipe(Effect.scoped)

const download = (res: EnvdResponse, url: URL, target: SandboxTarget) =>
  Effect.gen(function* () {
    const files = yield* SandboxFiles
    const content = yield* files.read(target, url.searchParams.get("path") ?? "")
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      ...(content.empty ? { "content-length": "0" } : {}),
    })
    yield* Stream.runForEach(content.bytes, (chunk) => writeChunk(res, chunk))
    res.end()
  }).pipe(Effect.scoped)

/** Whether a request is for one of these endpoints. */
export const isFilesHttpPath = (pathname: string): boolean => pathname === "/files" || pathname === "/health"

/** Serves /files and /health; resolves when the response is complete. */
export const serve = (
  runtime: Runtime.Runtime<SandboxFiles>,
  resolveSandbox: ResolveSandbox,
  req: EnvdRequest,
  res: EnvdResponse,
  limits: FilesHttpLimits,
): Promise<void> => {
  const url = new URL(req.url ?? "/", "http://envd")
  const target = Effect.mapError(resolveSandbox(req), fromResolveError)
  const program: Effect.Effect<void, EnvdError | UploadTooLarge, SandboxFiles> = Effect.gen(function* () {
    if (url.pathname === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD")
        return yield* Effect.fail(envdError("unimplemented", "method not allowed"))
      yield* target
      res.writeHead(204)
      res.end()
      return
    }
    if (req.method === "GET" || req.method === "HEAD") return yield* download(res, url, yield* target)
    if (req.method === "POST") return sendJson(res, 200, yield* upload(req, url, yield* target, limits))
    return yield* Effect.fail(
      envdError("unimplemented", `method ${req.method} not allowed on ${url.pathname}`),
    )
  })
  // A client that goes away mid-transfer interrupts the exec session behind it.
  const gone = new AbortController()
  res.on("close", () => gone.abort())
  return Runtime.runPromiseExit(runtime)(program, { signal: gone.signal }).then((exit) => {
    if (Exit.isSuccess(exit)) return
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) return sendError(req, res, failure.value)
    if (!res.writableEnded) {
      if (res.headersSent) res.destroy()
      else sendJson(res, 500, { code: 500, message: "internal error" })
    }
  })
}
