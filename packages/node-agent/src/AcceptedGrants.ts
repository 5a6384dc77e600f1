/**
 * The scrub grants this agent has accepted, each remembered until it expires, so that a grant is
 * acted on once: one seen on the wire (a log, a proxy, a packet capture) cannot be sent again to
 * have a Pod scrubbed at another moment, nor the same request run twice. Bounded: while `capacity`
 * unexpired grants are remembered, new ones are refused, never is one forgotten early (that would
 * let it be replayed). A refused scrub is safe: the operator deletes the Pod instead.
 */
import { createHash } from "node:crypto"
import { Either, Schema } from "effect"

/** A grant this agent accepted before, sent again (403). */
export class GrantReplayed extends Schema.TaggedError<GrantReplayed>()("GrantReplayed", {
  message: Schema.String,
}) {}

/** As many unexpired grants remembered as the agent may hold (429, Retry-After). */
export class TooManyGrants extends Schema.TaggedError<TooManyGrants>()("TooManyGrants", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number,
}) {}

export interface AcceptedGrants {
  readonly capacity: number
  /** Grant identity → its expiry (Unix ms). */
  readonly expiries: Map<string, number>
}

/** Unexpired grants remembered at once by default: scrubs in flight on one node are far fewer. */
export const defaultCapacity = 1024

export const make = (capacity: number = defaultCapacity): AcceptedGrants => ({
  capacity,
  expiries: new Map(),
})

/**
 * A grant's identity: a digest of its payload exactly as signed (the signature binds those bytes,
 * while its own encoding could be varied without breaking it).
 */
export const identityOf = (token: string): string =>
  createHash("sha256")
    .update(token.slice(0, Math.max(0, token.indexOf("."))))
    .digest("base64url")

const forgetExpired = (ledger: AcceptedGrants, now: number) => {
  for (const [identity, expiresAt] of ledger.expiries) if (expiresAt < now) ledger.expiries.delete(identity)
}

/**
 * Records a verified grant (not expired at `now`) as accepted, or says why not: accepted before, or
 * no room until the soonest remembered grant expires.
 */
export const accept = (
  ledger: AcceptedGrants,
  identity: string,
  expiresAt: number,
  now: number,
): Either.Either<void, GrantReplayed | TooManyGrants> => {
  const known = ledger.expiries.get(identity)
  if (known !== undefined && known >= now)
    return Either.left(
      new GrantReplayed({
        message: "scrub grant replayed: this agent accepted it already; each grant is used once",
      }),
    )
  if (ledger.expiries.size >= ledger.capacity) forgetExpired(ledger, now)
  if (ledger.expiries.size >= ledger.capacity) {
    let soonest = Number.POSITIVE_INFINITY
    for (const expiresAt of ledger.expiries.values()) soonest = Math.min(soonest, expiresAt)
    return Either.left(
      new TooManyGrants({
        message: `scrub grant refused: ${ledger.capacity} unexpired grants are remembered already (AGENT_SANDBOX_NODE_AGENT_MAX_SCRUB_GRANTS)`,
        retryAfterSeconds: Math.max(1, Math.ceil((soonest - now + 1) / 1000)),
      }),
    )
  }
  ledger.expiries.set(identity, expiresAt)
  return Either.right(undefined)
}
