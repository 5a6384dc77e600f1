/**
 * Request bodies on the API ports are bounded: a declared Content-Length over the limit is refused
 * before a byte of the body is read, and a body without one (chunked) stops being read at the limit
 * (`BoundedBody`, which leaves the connection up for the answer). Either way the caller gets a 413
 * in its API's error shape (`tooLarge`, with `Connection: close`), never a 500, a dropped
 * connection or a body buffered whole.
 */
import {
  HttpApp,
  HttpIncomingMessage,
  HttpMiddleware,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse,
} from "@effect/platform"
import { Cause, Effect, Option } from "effect"
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
        Effect.sync(() => {
          if (body.overLimit()) return tooLarge(maxBytes)
          return body.unread() ? HttpServerResponse.setHeader(response, "connection", "close") : response
        }),
      )
      return Effect.zipRight(
        beforeAnswer,
        app.pipe(
          // Handlers read the body through the bounded request; anything reading the raw stream
          // still has the platform's bound.
          Effect.provideService(HttpServerRequest.HttpServerRequest, body.request),
          HttpIncomingMessage.withMaxBodySize(Option.some(maxBytes)),
          Effect.catchAllCause((cause) =>
            causeIsOverLimit(cause) || body.overLimit()
              ? Effect.succeed(tooLarge(maxBytes))
              : Effect.failCause(cause),
          ),
        ),
      )
    }),
  )
