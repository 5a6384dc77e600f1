import { RpcAuthentication, Unauthorized } from "@agent-sandbox/domain"
import { Effect, Layer } from "effect"
import { ApiKeys } from "../auth/ApiKeys.ts"

const missing = new Unauthorized({ message: "a valid API key is required (x-api-key header)" })

/** The key from `x-api-key` or a bearer token, in the HTTP request, the WebSocket upgrade or the message. */
export const keyOf = (headers: Readonly<Record<string, string | undefined>>): string | undefined => {
  const key = headers["x-api-key"]
  if (key !== undefined && key !== "") return key
  const authorization = headers.authorization
  return authorization?.toLowerCase().startsWith("bearer ") === true
    ? authorization.slice(7).trim()
    : undefined
}

/** The same keys and tenancy as REST: every call is checked, not just the connection. */
export const layer = Layer.effect(
  RpcAuthentication,
  Effect.map(ApiKeys, (keys) => ({ headers }) => {
    const key = keyOf(headers)
    return key === undefined ? Effect.fail(missing) : keys.authenticate(key)
  }),
)
