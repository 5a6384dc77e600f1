import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import * as AcceptedGrants from "../src/AcceptedGrants.ts"

const tagOf = (verdict: Either.Either<void, AcceptedGrants.GrantReplayed | AcceptedGrants.TooManyGrants>) =>
  Either.isLeft(verdict) ? verdict.left._tag : "accepted"

describe("AcceptedGrants", () => {
  it("accepts a grant once: the same grant again is refused until it expires", () => {
    const ledger = AcceptedGrants.make(10)
    assert.strictEqual(tagOf(AcceptedGrants.accept(ledger, "a", 5_000, 1_000)), "accepted")
    assert.strictEqual(tagOf(AcceptedGrants.accept(ledger, "a", 5_000, 1_001)), "GrantReplayed")
    assert.strictEqual(tagOf(AcceptedGrants.accept(ledger, "a", 5_000, 5_000)), "GrantReplayed")
    assert.strictEqual(tagOf(AcceptedGrants.accept(ledger, "b", 5_000, 1_001)), "accepted")
  })

  it("holds at most its capacity: full, it refuses new grants (never forgets an unexpired one early)", () => {
    const ledger = AcceptedGrants.make(2)
    AcceptedGrants.accept(ledger, "a", 3_000, 1_000)
    AcceptedGrants.accept(ledger, "b", 9_000, 1_000)
    const full = AcceptedGrants.accept(ledger, "c", 9_000, 1_000)
    assert.strictEqual(tagOf(full), "TooManyGrants")
    assert.strictEqual(
      Either.isLeft(full) && full.left._tag === "TooManyGrants" && full.left.retryAfterSeconds,
      3,
    )
    assert.include(Either.isLeft(full) ? full.left.message : "", "AGENT_SANDBOX_NODE_AGENT_MAX_SCRUB_GRANTS")
    assert.strictEqual(tagOf(AcceptedGrants.accept(ledger, "a", 3_000, 1_000)), "GrantReplayed")
    assert.strictEqual(ledger.expiries.size, 2)
    // Once "a" has expired, its room is taken by the next grant.
    assert.strictEqual(tagOf(AcceptedGrants.accept(ledger, "c", 9_000, 3_001)), "accepted")
    assert.deepStrictEqual([...ledger.expiries.keys()].sort(), ["b", "c"])
  })

  it("a grant's identity is its payload as signed, whatever the signature's encoding", () => {
    assert.strictEqual(AcceptedGrants.identityOf("payload.sig"), AcceptedGrants.identityOf("payload.sig=="))
    assert.notStrictEqual(AcceptedGrants.identityOf("payload.sig"), AcceptedGrants.identityOf("payloae.sig"))
  })
})
