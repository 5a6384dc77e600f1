import { HttpApp, HttpMiddleware, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"

/**
 * 503 and 429 tell the caller when to come back (REST and E2B). A pre-response handler, because
 * the server has already sent an error response by the time a plain middleware would see it.
 */
export const middleware = (seconds: number) =>
  HttpMiddleware.make((app) =>
    Effect.zipRight(
      HttpApp.appendPreResponseHandler((_request, response) =>
        Effect.succeed(
          (response.status === 503 || response.status === 429) &&
            response.headers["retry-after"] === undefined
            ? HttpServerResponse.setHeader(response, "retry-after", String(seconds))
            : response,
        ),
      ),
      app,
    ),
  )
