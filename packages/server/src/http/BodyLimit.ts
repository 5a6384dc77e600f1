/**
 * Request bodies on the API ports are bounded: a declared Content-Length over the limit is refused
 * before a byte of the body is read, and a body without one (chunked) stops being read at the limit.
 * Either way the caller gets a 413 in its API's error shape (`tooLarge`), never a 500 or a body
 * buffered whole.
 */
import {
  HttpIncomingMessage,
  HttpMiddleware,
  HttpServerError,
  HttpServerRequest,
  type HttpServerResponse,
} from "@effect/platform"
import { Cause, Effect, Option } from "effect"

/** The platform's own failure for a body read past `MaxBodySize` (how @effect/platform-node reports it). */
export const isOverLimit = (defect: unknown): boolean =>
  defect instanceof HttpServerError.RequestError &&
  defect.cause instanceof Error &&
  defect.cause.message === "maxBytes exceeded"

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
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      declaredOver(request.headers["content-length"], maxBytes) !== undefined
        ? Effect.succeed(tooLarge(maxBytes))
        : app.pipe(
            HttpIncomingMessage.withMaxBodySize(Option.some(maxBytes)),
            Effect.catchAllCause((cause) =>
              causeIsOverLimit(cause) ? Effect.succeed(tooLarge(maxBytes)) : Effect.failCause(cause),
            ),
          ),
    ),
  )
