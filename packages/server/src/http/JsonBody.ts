/**
 * The API ports take JSON bodies only. HttpApi reads a body by its Content-Type: a multipart one
 * without a boundary throws inside the parser (a 500), and JSON that does not parse ends as an
 * empty 400. Both reach the caller as a 400 in its API's error shape (`badRequest`) instead, with
 * a message that says what to send. A JSON body is parsed here once (the platform caches the text,
 * so the endpoint reads it again for free; other read failures die, as HttpApi makes them); this
 * must run inside BodyLimit's middleware, which bounds that read. Found by the schemathesis suite (ApiFuzz.test.ts).
 */
import {
  HttpMethod,
  HttpMiddleware,
  HttpServerError,
  HttpServerRequest,
  type HttpServerResponse,
} from "@effect/platform"
import { Effect } from "effect"

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

/** The platform's failure for a body it could not parse (bad JSON). */
export const isUnparsable = (error: unknown): boolean =>
  error instanceof HttpServerError.RequestError && error.reason === "Decode"

export const middleware = (badRequest: (message: string) => HttpServerResponse.HttpServerResponse) =>
  HttpMiddleware.make((app) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const refused = refusedContentType(request.headers["content-type"])
      if (refused !== undefined) return Effect.succeed(badRequest(notJsonMessage(refused)))
      if (!carriesJson(request.method, request.headers)) return app
      return request.json.pipe(
        Effect.matchEffect({
          onFailure: (error) =>
            isUnparsable(error) ? Effect.succeed(badRequest(unparsableMessage)) : Effect.die(error),
          onSuccess: () => app,
        }),
      )
    }),
  )
