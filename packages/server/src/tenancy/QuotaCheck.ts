/**
 * The quota decision for one allocation request of `count` sandboxes, pure: what the tenant holds,
 * what it has in flight on this replica, and its create-rate bucket (one second's worth of
 * tokens, refilled continuously; a batch larger than the bucket may start when it is full and
 * leaves it in debt, so a batch is never refused forever).
 */
import type { TenantQuotas } from "@agent-sandbox/domain"

export interface Bucket {
  readonly tokens: number
  readonly atMillis: number
}

export type Decision =
  | { readonly _tag: "Admit"; readonly bucket: Bucket }
  | {
      readonly _tag: "Refuse"
      readonly quota: "maxAllocated" | "maxWaiting" | "createsPerSecond"
      readonly limit: number
      readonly message: string
      /** Undefined: the caller's usual Retry-After (nothing says when it frees up). */
      readonly retryAfterSeconds: number | undefined
    }

export const fullBucket = (quotas: TenantQuotas, nowMillis: number): Bucket => ({
  tokens: Math.max(1, quotas.createsPerSecond),
  atMillis: nowMillis,
})

const refilled = (bucket: Bucket, rate: number, nowMillis: number): number =>
  Math.min(Math.max(1, rate), bucket.tokens + (rate * Math.max(0, nowMillis - bucket.atMillis)) / 1000)

export const decide = (input: {
  readonly tenant: string
  readonly quotas: TenantQuotas
  /** Sandboxes the tenant holds now (the shared Pod cache). */
  readonly held: number
  /** The tenant's allocations under way on this replica. */
  readonly inFlight: number
  readonly count: number
  readonly bucket: Bucket
  readonly nowMillis: number
}): Decision => {
  const { quotas, count, tenant } = input
  if (input.held + input.inFlight + count > quotas.maxAllocated) {
    return {
      _tag: "Refuse",
      quota: "maxAllocated",
      limit: quotas.maxAllocated,
      message: `tenant ${tenant} holds ${input.held} sandboxes (${input.inFlight} more being allocated); ${count} more would pass its quota of ${quotas.maxAllocated}`,
      retryAfterSeconds: undefined,
    }
  }
  if (input.inFlight + count > quotas.maxWaiting) {
    return {
      _tag: "Refuse",
      quota: "maxWaiting",
      limit: quotas.maxWaiting,
      message: `tenant ${tenant} has ${input.inFlight} allocations waiting; ${count} more would pass its quota of ${quotas.maxWaiting}`,
      retryAfterSeconds: undefined,
    }
  }
  const rate = quotas.createsPerSecond
  if (rate === Number.POSITIVE_INFINITY) return { _tag: "Admit", bucket: input.bucket }
  const tokens = refilled(input.bucket, rate, input.nowMillis)
  const needed = Math.min(count, Math.max(1, rate))
  if (rate <= 0 || tokens < needed) {
    return {
      _tag: "Refuse",
      quota: "createsPerSecond",
      limit: rate,
      message: `tenant ${tenant} may start ${rate} allocations per second`,
      retryAfterSeconds: rate <= 0 ? undefined : Math.max(1, Math.ceil((needed - tokens) / rate)),
    }
  }
  return { _tag: "Admit", bucket: { tokens: tokens - count, atMillis: input.nowMillis } }
}
