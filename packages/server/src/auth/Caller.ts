import { CurrentTenant } from "@agent-sandbox/domain"
import { Effect } from "effect"

/** The caller as the Authentication middleware found it, for the operator (REST and E2B alike). */
export const current = Effect.map(CurrentTenant, (tenant) => ({ tenant: tenant.name, admin: tenant.admin }))
