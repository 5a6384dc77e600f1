import { HttpApp, HttpMiddleware, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"

/** The error's own `retryAfterSeconds` (e.g. a quota's bucket knows when its next token is there). */
const statedSeconds = (response: HttpServerResponse.HttpServerResponse): number | undefined => {
  if (response.body._tag !== "Uint8Array") return undefined
  try {
    const body: unknown = JSON.parse(new TextDecoder().decode(response.body.body))
    const seconds =
      typeof body === "object" && body !== null && "retryAfterSeconds" in body
        ? body.retryAfterSeconds
        : undefined
    return typeof seconds === "number" && Number.isInteger(seconds) && seconds >= 1 ? seconds : undefined
  } catch {
    return undefined
  }
}

/**
 * 503 and 429 tell the caller when to come back (REST and E2B): the error's own
 * `retryAfterSeconds` when it says one, else `seconds`. A pre-response handler, because the server
 * has already sent an error response by the time a plain middleware would see it.
 */
export const beforeAnswer =
  (seconds: number): HttpApp.PreResponseHandler =>
  (_request, response) =>
    Effect.succeed(
      (response.status === 503 || response.status === 429) && response.headers["retry-after"] === undefined
        ? HttpServerResponse.setHeader(response, "retry-after", String(statedSeconds(response) ?? seconds))
        : response,
    )

/** `beforeAnswer` appended by each request (RestServer sets it once as the server's default instead). */
export const middleware = (seconds: number) => {
  const handler = beforeAnswer(seconds)
  return HttpMiddleware.make((app) => Effect.zipRight(HttpApp.appendPreResponseHandler(handler), app))
}
