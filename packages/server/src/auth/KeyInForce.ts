import type { HttpServerRequest } from "@effect/platform"
import { Effect } from "effect"
import { ApiKeys } from "./ApiKeys.ts"

/** The keys a request presents at the HTTP level: `X-API-Key` and a bearer token, either one. */
export const presentedKeys = (
  headers: Readonly<Record<string, string | undefined>>,
): ReadonlyArray<string> => {
  const authorization = headers.authorization
  return [
    headers["x-api-key"],
    authorization?.toLowerCase().startsWith("bearer ") === true ? authorization.slice(7).trim() : undefined,
  ].filter((key): key is string => key !== undefined && key !== "")
}

/**
 * Whether the request's headers carry a key in force, as the API's `Authentication` decides it.
 * Reads headers only, so it can run before anything reads the body.
 */
export const authenticated = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.flatMap(ApiKeys, (keys) =>
    Effect.exists(presentedKeys(request.headers), (key) =>
      keys.authenticate(key).pipe(
        Effect.as(true),
        Effect.orElseSucceed(() => false),
      ),
    ),
  )
