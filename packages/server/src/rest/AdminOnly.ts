import { CurrentTenant, Forbidden } from "@agent-sandbox/domain"
import { Effect } from "effect"

/** Key and pool administration is for admin keys; a tenant key gets a 403 naming why. */
export const requireAdmin = Effect.flatMap(CurrentTenant, (tenant) =>
  tenant.admin ? Effect.void : Effect.fail(new Forbidden({ message: "this needs an admin API key" })),
)
