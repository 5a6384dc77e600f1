import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import * as QuotaCheck from "../src/tenancy/QuotaCheck.ts"
import * as TenantPolicy from "../src/tenancy/TenantPolicy.ts"

const fallback = TenantPolicy.defaults("default")

describe("TenantPolicy", () => {
  it("matches namespace/name patterns with wildcards within a part", () => {
    assert.isTrue(TenantPolicy.allowsPool(["team-a/*"], "team-a", "python"))
    assert.isFalse(TenantPolicy.allowsPool(["team-a/*"], "team-ab", "python"))
    assert.isTrue(TenantPolicy.allowsPool(["*/python-*"], "x", "python-3"))
    assert.isFalse(TenantPolicy.allowsPool(["*/python-*"], "x", "node"))
    assert.isTrue(TenantPolicy.allowsPool(["*"], "any", "pool"))
    assert.isFalse(TenantPolicy.allowsPool([], "any", "pool"))
    assert.isTrue(TenantPolicy.mayUse({ admin: true, pools: [] }, "any", "pool"))
  })

  it("reads a Secret's policy, with the server's defaults where it says nothing", () => {
    assert.deepStrictEqual(TenantPolicy.parse({}, false, fallback), Either.right(fallback))
    assert.deepStrictEqual(
      TenantPolicy.parse(
        { pools: "a/b, c/*\nd/e", maxAllocated: "5", createsPerSecond: "0.5" },
        false,
        fallback,
      ),
      Either.right({
        pools: ["a/b", "c/*", "d/e"],
        quotas: { maxAllocated: 5, maxWaiting: fallback.quotas.maxWaiting, createsPerSecond: 0.5 },
      }),
    )
    // Admin keys have no quotas unless their Secret sets them.
    const admin = TenantPolicy.parse({ maxWaiting: "3" }, true, fallback)
    assert.deepStrictEqual(Either.getOrThrow(admin).quotas, {
      ...TenantPolicy.unlimited,
      maxWaiting: 3,
    })
    assert.deepStrictEqual(
      TenantPolicy.parse({ pools: "" }, false, fallback).pipe(Either.map((p) => p.pools)),
      Either.right([]),
    )
  })

  it("fails a malformed policy rather than granting more than meant", () => {
    assert.isTrue(Either.isLeft(TenantPolicy.parse({ pools: "a/b/c" }, false, fallback)))
    assert.isTrue(Either.isLeft(TenantPolicy.parse({ pools: "UPPER/case" }, false, fallback)))
    assert.isTrue(Either.isLeft(TenantPolicy.parse({ maxAllocated: "lots" }, false, fallback)))
    assert.isTrue(Either.isLeft(TenantPolicy.parse({ createsPerSecond: "-1" }, false, fallback)))
  })
})

describe("QuotaCheck.decide", () => {
  const quotas = { maxAllocated: 3, maxWaiting: 2, createsPerSecond: 2 }
  const base = {
    tenant: "t",
    quotas,
    held: 0,
    inFlight: 0,
    count: 1,
    bucket: QuotaCheck.fullBucket(quotas, 0),
    nowMillis: 0,
  }

  it("admits within every quota and takes tokens", () => {
    const decision = QuotaCheck.decide(base)
    assert.strictEqual(decision._tag, "Admit")
    if (decision._tag === "Admit") assert.strictEqual(decision.bucket.tokens, 1)
  })

  it("counts held and in-flight sandboxes against maxAllocated", () => {
    const decision = QuotaCheck.decide({ ...base, held: 2, inFlight: 1 })
    assert.strictEqual(decision._tag === "Refuse" ? decision.quota : undefined, "maxAllocated")
  })

  it("refuses past maxWaiting", () => {
    const decision = QuotaCheck.decide({ ...base, inFlight: 2 })
    assert.strictEqual(decision._tag === "Refuse" ? decision.quota : undefined, "maxWaiting")
  })

  it("refills the bucket over time and says when the next token is there", () => {
    const empty = { tokens: 0, atMillis: 0 }
    const refused = QuotaCheck.decide({ ...base, bucket: empty, nowMillis: 100 })
    assert.strictEqual(refused._tag === "Refuse" ? refused.quota : undefined, "createsPerSecond")
    assert.strictEqual(refused._tag === "Refuse" ? refused.retryAfterSeconds : undefined, 1)
    assert.strictEqual(QuotaCheck.decide({ ...base, bucket: empty, nowMillis: 500 })._tag, "Admit")
    const slow = { ...quotas, createsPerSecond: 0.01 }
    const later = QuotaCheck.decide({ ...base, quotas: slow, bucket: empty, nowMillis: 0 })
    assert.strictEqual(later._tag === "Refuse" ? later.retryAfterSeconds : undefined, 100)
  })

  it("lets a batch larger than the bucket start when it is full, leaving it in debt", () => {
    const batch = QuotaCheck.decide({
      ...base,
      quotas: { ...quotas, maxAllocated: 10, maxWaiting: 10 },
      count: 5,
    })
    assert.strictEqual(batch._tag, "Admit")
    if (batch._tag === "Admit") assert.strictEqual(batch.bucket.tokens, -3)
  })
})
