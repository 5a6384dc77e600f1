/**
 * The API ports take JSON bodies only. HttpApi reads a body by its Content-Type: a multipart one
 * without a boundary throws inside the parser (a 500), and JSON that does not parse ends as an
 * empty 400. Both reach the caller as a 400 in its API's error shape (`badRequest`) instead, with
 * a message that says what to send. Found by the schemathesis suite (ApiFuzz.test.ts).
 */
import {
  HttpMethod,
  HttpMiddleware,
  HttpServerError,
  HttpServerRequest,
  type HttpServerResponse,
} from "@effect/platform"
import { Cause, Effect, Option } from "effect"
import * as BodyLimit from "./BodyLimit.ts"

export const notJsonMessage = (contentType: string) =>
  `the request body must be JSON (Content-Type: application/json), not ${contentType}`

export const unparsableMessage = "the request body is not valid JSON"

/** A Content-Type the API cannot read as JSON and whose parser fails badly; undefined when fine. */
export const refusedContentType = (contentType: string | undefined): string | undefined => {
  const media = contentType?.split(";")[0]?.trim().toLowerCase()
  return media?.startsWith("multipart/") ? media : undefined
}

/** Whether the request carries a JSON body the endpoint will parse (as HttpApi decides JSON). */
export const carriesJson = (method: string, headers: Readonly<Record<string, string | undefined>>): boolean =>
  HttpMethod.isHttpMethod(method) &&
  HttpMethod.hasBody(method) &&
  (headers["content-type"] ?? "").toLowerCase().includes("application/json") &&
  (headers["transfer-encoding"] !== undefined || Number(headers["content-length"] ?? "0") > 0)

/** The platform's failure for a body it could not parse (bad JSON); a body over the limit is not one. */
export const isUnparsable = (error: unknown): boolean =>
  error instanceof HttpServerError.RequestError && error.reason === "Decode" && !BodyLimit.isOverLimit(error)

/**
 * Runs after the endpoint, so authentication still comes first (a caller without a key gets 401
 * whatever its body): the endpoint's answer is replaced only when it is the platform's own for an
 * unreadable body, an empty 400 for JSON that does not parse (the text is cached: nothing is read
 * again) or a 500 for a multipart body, which no endpoint here takes. Depending on where the
 * middleware sits (HttpApiBuilder.serve or around the built app) that answer is still a failure
 * or already a response: both are handled. A typed failure (401, 404) is never replaced.
 */
const causeIsUnparsable = (cause: Cause.Cause<unknown>): boolean =>
  Option.exists(Cause.failureOption(cause), isUnparsable) ||
  Option.exists(Cause.dieOption(cause), isUnparsable)

export const middleware = (badRequest: (message: string) => HttpServerResponse.HttpServerResponse) =>
  HttpMiddleware.make((app) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      Effect.flatMap(
        app.pipe(
          Effect.catchAllCause((cause) => {
            const refused = refusedContentType(request.headers["content-type"])
            if (refused !== undefined && Option.isSome(Cause.dieOption(cause))) {
              return Effect.succeed(badRequest(notJsonMessage(refused)))
            }
            return causeIsUnparsable(cause)
              ? Effect.succeed(badRequest(unparsableMessage))
              : Effect.failCause(cause)
          }),
        ),
        (response) => {
          const refused = refusedContentType(request.headers["content-type"])
          if (refused !== undefined && response.status >= 500) {
            return Effect.succeed(badRequest(notJsonMessage(refused)))
          }
          if (
            response.status !== 400 ||
            response.body._tag !== "Empty" ||
            !carriesJson(request.method, request.headers)
          ) {
            return Effect.succeed(response)
          }
          return request.json.pipe(
            Effect.match({
              onFailure: (error) => (isUnparsable(error) ? badRequest(unparsableMessage) : response),
              onSuccess: () => response,
            }),
          )
        },
      ),
    ),
  )

/**
 * For HttpApiBuilder.serve (the REST API), where an answer replaced after the endpoint's failed
 * read reaches the caller without its body: the JSON body is parsed here, before the endpoint
 * (the platform caches the text, so the endpoint reads it again for free), and a multipart one is
 * refused outright. Only for a caller that `authenticated` accepts: anyone else goes straight to
 * the API, whose key check answers 401 before any body is read, so a caller without a key cannot
 * make the server read or parse one. Must run inside BodyLimit's middleware, which bounds the read.
 */
export const parseFirst = <R>(
  badRequest: (message: string) => HttpServerResponse.HttpServerResponse,
  authenticated: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<boolean, never, R>,
) =>
  HttpMiddleware.make((app) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const refused = refusedContentType(request.headers["content-type"])
      if (refused === undefined && !carriesJson(request.method, request.headers)) return app
      return Effect.flatMap(authenticated(request), (known) => {
        if (!known) return app
        if (refused !== undefined) return Effect.succeed(badRequest(notJsonMessage(refused)))
        return request.json.pipe(
          Effect.matchEffect({
            onFailure: (error) =>
              isUnparsable(error) ? Effect.succeed(badRequest(unparsableMessage)) : Effect.die(error),
            onSuccess: () => app,
          }),
        )
      })
    }),
  )
