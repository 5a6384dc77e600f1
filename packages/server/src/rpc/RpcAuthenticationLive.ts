import { RpcAuthentication, Unauthorized } from "@agent-sandbox/domain"
import { Effect, Layer } from "effect"
import { presentedKey } from "../auth/ApiKey.ts"
import { ApiKeys } from "../auth/ApiKeys.ts"

const missing = new Unauthorized({ message: "a valid API key is required (x-api-key header)" })

/** The same keys and tenancy as REST: every call is checked, not just the connection. */
export const layer = Layer.effect(
  RpcAuthentication,
  Effect.map(ApiKeys, (keys) => ({ headers }) => {
    const key = presentedKey(headers)
    return key === undefined ? Effect.fail(missing) : keys.authenticate(key)
  }),
)
