import { Context } from "effect"

/** A key's quotas; `Infinity` where none applies (admin keys by default). */
export interface TenantQuotas {
  /** Sandboxes the tenant may hold at once (counted from the shared Pod cache). */
  readonly maxAllocated: number
  /** The tenant's allocations that may be in flight (waiting for a Pod) at once, per replica. */
  readonly maxWaiting: number
  /** Allocations the tenant may start per second (a token bucket of one second's worth), per replica. */
  readonly createsPerSecond: number
}

/** Who is calling, as the API key says: a tenant sees and touches only its own sandboxes. */
export interface TenantShape {
  readonly name: string
  /** Admin keys see every tenant's sandboxes and may act on them. */
  readonly admin: boolean
  /**
   * The pools the key may allocate from and list, as `namespace/name` patterns (`*` matches any
   * run of characters within its part). Admin keys may use every pool.
   */
  readonly pools: ReadonlyArray<string>
  readonly quotas: TenantQuotas
}

export class CurrentTenant extends Context.Tag("@agent-sandbox/domain/CurrentTenant")<
  CurrentTenant,
  TenantShape
>() {}
