/**
 * Request bodies on the API ports are bounded: a declared Content-Length over the limit is refused
 * before a byte of the body is read, and a body without one (chunked) stops being read at the limit
 * (`BoundedBody`, which leaves the connection up for the answer). Either way the caller gets a 413
 * in its API's error shape (`tooLarge`, with `Connection: close`), never a 500, a dropped
 * connection or a body buffered whole.
 */
import {
  FileSystem,
  HttpApp,
  HttpIncomingMessage,
  HttpMiddleware,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse,
} from "@effect/platform"
import { Cause, Effect, Layer, Option } from "effect"
import * as BoundedBody from "./BoundedBody.ts"

/** The platform's own failure for a body read past `MaxBodySize` (how @effect/platform-node reports it). */
export const isOverLimit = (defect: unknown): boolean =>
  defect instanceof HttpServerError.RequestError &&
  (defect.cause instanceof BoundedBody.OverLimit ||
    (defect.cause instanceof Error && defect.cause.message === "maxBytes exceeded"))

const causeIsOverLimit = (cause: Cause.Cause<unknown>): boolean => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure) && isOverLimit(failure.value)) return true
  return Option.exists(Cause.dieOption(cause), isOverLimit)
}

/** A declared length over the limit; undefined when none is declared or it is within. */
export const declaredOver = (contentLength: string | undefined, maxBytes: number): number | undefined => {
  if (contentLength === undefined) return undefined
  const length = Number(contentLength)
  return Number.isFinite(length) && length > maxBytes ? length : undefined
}

export const message = (maxBytes: number) => `the request body exceeds the limit of ${maxBytes} bytes`

/** The answer to give instead of `response` for a request whose body was read through `body`. */
const answerFor = (
  body: BoundedBody.Bounded,
  response: HttpServerResponse.HttpServerResponse,
  maxBytes: number,
  tooLarge: (maxBytes: number) => HttpServerResponse.HttpServerResponse,
): HttpServerResponse.HttpServerResponse => {
  if (body.overLimit()) return tooLarge(maxBytes)
  return body.unread() ? HttpServerResponse.setHeader(response, "connection", "close") : response
}

/** `app` with a read past the limit (through `body`) answered 413. */
const answeringOverLimit = <E, R>(
  app: HttpApp.Default<E, R>,
  body: BoundedBody.Bounded,
  maxBytes: number,
  tooLarge: (maxBytes: number) => HttpServerResponse.HttpServerResponse,
) =>
  Effect.catchAllCause(app, (cause) =>
    causeIsOverLimit(cause) || body.overLimit()
      ? Effect.succeed(tooLarge(maxBytes))
      : Effect.failCause(cause),
  )

/** `app` with its request's body bounded (`body`), a read past the limit answered 413. */
const boundedApp = <E, R>(
  app: HttpApp.Default<E, R>,
  body: BoundedBody.Bounded,
  maxBytes: number,
  tooLarge: (maxBytes: number) => HttpServerResponse.HttpServerResponse,
) =>
  answeringOverLimit(
    // Handlers read the body through the bounded request; anything reading the raw stream
    // still has the platform's bound.
    Effect.provideService(app, HttpServerRequest.HttpServerRequest, body.request),
    body,
    maxBytes,
    tooLarge,
  )

export const middleware = (
  maxBytes: number,
  tooLarge: (maxBytes: number) => HttpServerResponse.HttpServerResponse,
) =>
  HttpMiddleware.make((app) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      if (declaredOver(request.headers["content-length"], maxBytes) !== undefined) {
        return Effect.succeed(tooLarge(maxBytes))
      }
      const body = BoundedBody.bounded(request, maxBytes)
      // Runs just before the answer is written, wherever the middleware sits (inside the
      // platform's writing, or outside it as under HttpApiBuilder.serve): a handler may have turned
      // the failed read into an answer of its own, but the rest of the body is unread, so the
      // answer must be the 413, which closes the connection; an answer given without reading the
      // body (a 401, a 404) closes it too, where Node would read and drop all of it.
      const beforeAnswer = HttpApp.appendPreResponseHandler((_request, response) =>
        Effect.sync(() => answerFor(body, response, maxBytes, tooLarge)),
      )
      return Effect.zipRight(
        beforeAnswer,
        boundedApp(app, body, maxBytes, tooLarge).pipe(
          HttpIncomingMessage.withMaxBodySize(Option.some(maxBytes)),
        ),
      )
    }),
  )

/**
 * `middleware` for a server that installs the rest once (RestServer, every request of the REST
 * port): `beforeAnswer` is the pre-response handler, set as the server's default rather than
 * appended by each request, and `maxBodySize` the platform's bound, provided to the server's layer.
 * Each of those was a FiberRef write (a copy of every FiberRef or service) on every request.
 * `beforeAnswer` finds a request's body by the request, which the middleware bounds in place (a
 * new request to provide would copy the fiber's services on every request too).
 */
export const forServer = (
  maxBytes: number,
  tooLarge: (maxBytes: number) => HttpServerResponse.HttpServerResponse,
) => {
  const bodies = new WeakMap<HttpServerRequest.HttpServerRequest, BoundedBody.Bounded>()
  return {
    middleware: HttpMiddleware.make((app) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        if (declaredOver(request.headers["content-length"], maxBytes) !== undefined) {
          return Effect.succeed(tooLarge(maxBytes))
        }
        // The request in context is bounded itself: nothing to provide, no copy of the services.
        const body = BoundedBody.bounded(request, maxBytes, { inPlace: true })
        bodies.set(body.request, body)
        return answeringOverLimit(app, body, maxBytes, tooLarge)
      }),
    ),
    beforeAnswer: ((request, response) =>
      Effect.sync(() => {
        const body = bodies.get(request)
        return body === undefined ? response : answerFor(body, response, maxBytes, tooLarge)
      })) satisfies HttpApp.PreResponseHandler,
    maxBodySize: Layer.succeed(HttpIncomingMessage.MaxBodySize, Option.some(FileSystem.Size(maxBytes))),
  }
}
