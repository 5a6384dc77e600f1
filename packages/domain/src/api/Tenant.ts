import { Context } from "effect"

/** Who is calling, as the API key says: a tenant sees and touches only its own sandboxes. */
export interface TenantShape {
  readonly name: string
  /** Admin keys see every tenant's sandboxes and may act on them. */
  readonly admin: boolean
}

export class CurrentTenant extends Context.Tag("@agent-sandbox/domain/CurrentTenant")<
  CurrentTenant,
  TenantShape
>() {}
