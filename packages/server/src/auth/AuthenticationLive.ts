import { Authentication } from "@agent-sandbox/domain"
import { Effect, Layer, Redacted } from "effect"
import { ApiKeys } from "./ApiKeys.ts"

/** X-API-Key or a bearer token: either carries the same key. */
export const layer = Layer.effect(
  Authentication,
  Effect.map(ApiKeys, (keys) => ({
    apiKey: (key) => keys.authenticate(Redacted.value(key)),
    bearer: (token) => keys.authenticate(Redacted.value(token)),
  })),
)
