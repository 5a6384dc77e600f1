/**
 * A request body read up to a limit without ever destroying the request. The platform's own bounded
 * read (`HttpIncomingMessage.withMaxBodySize`) destroys the Node request when the limit is passed,
 * and destroying an unfinished request destroys its socket: a chunked body over the limit got a
 * dropped connection instead of the 413. Here the read only stops (the request is paused, so the
 * socket stops being read once its small buffer is full) and the server's answer still goes out;
 * the answer then says `Connection: close` and Node closes the socket after it.
 */
import type { IncomingMessage } from "node:http"
import { HttpServerError, type HttpServerRequest } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Deferred, Effect, FiberId } from "effect"

/** The cause of a read that passed the limit (the same words the platform uses). */
export class OverLimit extends Error {
  readonly maxBytes: number
  constructor(maxBytes: number) {
    super("maxBytes exceeded")
    this.maxBytes = maxBytes
  }
}

/** The body's bytes, failing with `OverLimit` as soon as more than `maxBytes` have arrived. */
export const read = (source: IncomingMessage, maxBytes: number): Effect.Effect<Uint8Array, Error> =>
  Effect.async<Uint8Array, Error>((resume) => {
    const chunks: Array<Buffer> = []
    let bytes = 0
    const stop = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      source.pause()
    }
    function onData(chunk: Buffer) {
      bytes += chunk.length
      if (bytes > maxBytes) {
        stop()
        resume(Effect.fail(new OverLimit(maxBytes)))
      } else chunks.push(chunk)
    }
    function onEnd() {
      stop()
      resume(Effect.succeed(Buffer.concat(chunks, bytes)))
    }
    function onError(error: Error) {
      stop()
      resume(Effect.fail(error))
    }
    if (source.readableEnded) return resume(Effect.succeed(new Uint8Array()))
    source.on("data", onData)
    source.once("end", onEnd)
    source.once("error", onError)
    return Effect.sync(stop)
  })

/** A request whose body reads are bounded, and whether one of them passed the bound. */
export interface Bounded {
  readonly request: HttpServerRequest.HttpServerRequest
  readonly overLimit: () => boolean
  /** The request has a body that has not arrived whole and that nobody has read. */
  readonly unread: () => boolean
}

/**
 * `request` whose `text`, `json`, `arrayBuffer` and `urlParamsBody` read at most `maxBytes` (once,
 * however often they are asked for). Past the limit they fail as the platform's read does (a
 * RequestError whose cause is `OverLimit`), and `overLimit` says so to the limit's middleware,
 * whatever the handler made of the failure. With `inPlace` the request itself is bounded (own
 * properties shadow its reads) rather than wrapped in a new one: nothing new has to be provided to
 * the app, which would copy the fiber's services on every request (BodyLimit.forServer). The
 * platform makes one request object per request, so no other request sees the change.
 */
export const bounded = (
  request: HttpServerRequest.HttpServerRequest,
  maxBytes: number,
  options?: { readonly inPlace?: boolean | undefined },
): Bounded => {
  let passed = false
  const bytes = once(
    Effect.suspend(() => read(NodeHttpServerRequest.toIncomingMessage(request), maxBytes)).pipe(
      Effect.tapError((cause) => Effect.sync(() => (passed ||= cause instanceof OverLimit))),
      Effect.mapError((cause) => new HttpServerError.RequestError({ request, reason: "Decode", cause })),
    ),
  )
  // The platform's `json` and `urlParamsBody` read `this.text`: overriding `text` bounds them too.
  const reads: PropertyDescriptorMap = {
    text: { value: Effect.map(bytes, (body) => new TextDecoder().decode(body)) },
    arrayBuffer: {
      value: Effect.map(bytes, (body) =>
        body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength),
      ),
    },
  }
  const wrapped: HttpServerRequest.HttpServerRequest =
    options?.inPlace === true ? Object.defineProperties(request, reads) : Object.create(request, reads)
  const source = NodeHttpServerRequest.toIncomingMessage(request)
  const hasBody =
    source.headers["transfer-encoding"] !== undefined || Number(source.headers["content-length"] ?? "0") > 0
  return {
    request: wrapped,
    overLimit: () => passed,
    unread: () => hasBody && !source.complete && !source.readableDidRead,
  }
}

/**
 * `effect` run by its first reader only; every reader (concurrent or later) gets that run's exit.
 * What `Effect.cached` gives, without running a fiber to build it on every request (this wraps
 * every request on the API ports, most of which never read a body).
 */
export const once = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
  let outcome: Deferred.Deferred<A, E> | undefined
  return Effect.suspend(() => {
    if (outcome !== undefined) return Deferred.await(outcome)
    const deferred = Deferred.unsafeMake<A, E>(FiberId.none)
    outcome = deferred
    // Interrupted or not, the readers waiting meanwhile learn how it ended.
    return Effect.onExit(effect, (exit) => Deferred.done(deferred, exit))
  })
}
