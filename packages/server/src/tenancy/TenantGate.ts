/**
 * The tenant's side of every allocation, whichever front door it came through (REST, RPC, E2B):
 * the pool must be one the key may use (else it reads as not found, as a pool that does not
 * exist), and the tenant must be within its quotas. What it holds is counted from the shared Pod
 * cache (every replica's claims, as the watch delivers them); what is in flight and the create
 * rate are this replica's.
 */
import { PoolNotFound, QuotaExceeded, type TenantShape } from "@agent-sandbox/domain"
import { Sandboxes } from "@agent-sandbox/operator"
import { Clock, Context, Effect, Layer } from "effect"
import { ServerConfig } from "../ServerConfig.ts"
import * as QuotaCheck from "./QuotaCheck.ts"
import * as TenantPolicy from "./TenantPolicy.ts"

export interface TenantGateShape {
  /** Runs `allocation` (of `count` sandboxes from the pool) if the key may, counting it in flight meanwhile. */
  readonly admit: (
    tenant: TenantShape,
    pool: { readonly namespace: string; readonly pool: string },
    count: number,
  ) => <A, E, R>(allocation: Effect.Effect<A, E, R>) => Effect.Effect<A, E | PoolNotFound | QuotaExceeded, R>
}

export class TenantGate extends Context.Tag("@agent-sandbox/server/TenantGate")<
  TenantGate,
  TenantGateShape
>() {}

/** A pool outside the key's policy answers exactly as a pool that does not exist. */
export const poolNotFound = (namespace: string, pool: string) =>
  new PoolNotFound({ namespace, pool, message: `SandboxPool ${namespace}/${pool} not found` })

interface TenantState {
  inFlight: number
  bucket: QuotaCheck.Bucket
}

export const make = Effect.gen(function* () {
  const sandboxes = yield* Sandboxes.Sandboxes
  const config = yield* ServerConfig
  const states = new Map<string, TenantState>()

  const held = (tenant: string) => Effect.map(sandboxes.list({ tenant, admin: false }), (mine) => mine.length)

  return {
    admit: (tenant, target, count) => (allocation) =>
      Effect.gen(function* () {
        if (!TenantPolicy.mayUse(tenant, target.namespace, target.pool)) {
          return yield* Effect.fail(poolNotFound(target.namespace, target.pool))
        }
        const now = yield* Clock.currentTimeMillis
        // Decided and recorded in one synchronous step: no other request of the tenant in between.
        const decide = (holds: number) =>
          Effect.sync(() => {
            const current = states.get(tenant.name) ?? {
              inFlight: 0,
              bucket: QuotaCheck.fullBucket(tenant.quotas, now),
            }
            const decision = QuotaCheck.decide({
              tenant: tenant.name,
              quotas: tenant.quotas,
              held: holds,
              inFlight: current.inFlight,
              count,
              bucket: current.bucket,
              nowMillis: now,
            })
            if (decision._tag === "Refuse") return decision
            current.inFlight += count
            current.bucket = decision.bucket
            states.set(tenant.name, current)
            return current
          })
        // Counting what the tenant holds walks every sandbox it holds (per request, a claim's largest
        // cost at a few hundred sandboxes). An O(1) bound on it decides the same whenever the quota has
        // room for the bound; only a bound over the quota is counted exactly (a refusal records nothing).
        const bounded = yield* decide(yield* sandboxes.heldAtMost(tenant.name))
        const state =
          "_tag" in bounded && bounded.quota === "maxAllocated"
            ? yield* decide(yield* held(tenant.name))
            : bounded
        if ("_tag" in state) {
          return yield* Effect.fail(
            new QuotaExceeded({
              quota: state.quota,
              limit: state.limit,
              message: state.message,
              retryAfterSeconds: state.retryAfterSeconds ?? config.retryAfterSeconds,
            }),
          )
        }
        return yield* allocation.pipe(
          Effect.ensuring(
            Effect.sync(() => {
              state.inFlight -= count
            }),
          ),
        )
      }),
  } satisfies TenantGateShape
})

export const layer = Layer.effect(TenantGate, make)
