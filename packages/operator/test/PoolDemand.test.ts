import { assert, describe, it } from "@effect/vitest"
import * as PoolDemand from "../src/allocation/PoolDemand.ts"

const now = Date.parse("2026-01-01T00:00:00Z")

describe("PoolDemand", () => {
  it("keys a replica by its id, hashing ids that are no valid key name", () => {
    assert.strictEqual(PoolDemand.annotationKey("replica-a"), "sandbox.agent-sandbox.dev/waiting-replica-a")
    const hashed = PoolDemand.annotationKey("host/with spaces:1234")
    assert.match(hashed, /^sandbox\.agent-sandbox\.dev\/waiting-[0-9a-f]{16}$/)
    assert.strictEqual(
      PoolDemand.annotationKey("x".repeat(60)).length,
      "sandbox.agent-sandbox.dev/waiting-".length + 16,
    )
  })

  it("round-trips a count", () => {
    assert.deepStrictEqual(PoolDemand.decode(PoolDemand.encode({ waiting: 7, until: now })), {
      waiting: 7,
      until: now,
    })
    for (const bad of ["", "{", "[]", '{"waiting":-1,"until":"2026-01-01T00:00:00Z"}', '{"waiting":1}'])
      assert.isUndefined(PoolDemand.decode(bad))
  })

  it("sums the other replicas' live counts and tells when the first lapses", () => {
    const self = PoolDemand.annotationKey("me")
    const annotations = {
      [self]: PoolDemand.encode({ waiting: 100, until: now + 10_000 }),
      [PoolDemand.annotationKey("b")]: PoolDemand.encode({ waiting: 3, until: now + 5_000 }),
      [PoolDemand.annotationKey("c")]: PoolDemand.encode({ waiting: 2, until: now + 8_000 }),
      [PoolDemand.annotationKey("dead")]: PoolDemand.encode({ waiting: 50, until: now - 1 }),
      [PoolDemand.annotationKey("garbled")]: "nonsense",
      "other.example/waiting-x": PoolDemand.encode({ waiting: 9, until: now + 5_000 }),
    }
    assert.deepStrictEqual(PoolDemand.othersWaiting(annotations, self, now), {
      waiting: 5,
      lapsesAt: now + 5_000,
    })
    assert.deepStrictEqual(PoolDemand.othersWaiting(undefined, self, now), {
      waiting: 0,
      lapsesAt: undefined,
    })
  })

  it("publishes on change and refreshes a non-zero count past half its life", () => {
    const ttl = 10_000
    assert.isFalse(PoolDemand.shouldPublish(0, undefined, now, ttl))
    assert.isTrue(PoolDemand.shouldPublish(2, undefined, now, ttl))
    assert.isFalse(PoolDemand.shouldPublish(2, { waiting: 2, until: now + 8_000 }, now, ttl))
    assert.isTrue(PoolDemand.shouldPublish(2, { waiting: 2, until: now + 4_000 }, now, ttl))
    assert.isTrue(PoolDemand.shouldPublish(0, { waiting: 2, until: now + 8_000 }, now, ttl))
    assert.isTrue(PoolDemand.shouldPublish(3, { waiting: 2, until: now + 8_000 }, now, ttl))
  })

  it("removes the entry at zero", () => {
    assert.deepStrictEqual(PoolDemand.patch("k", 0, now), { metadata: { annotations: { k: null } } })
    assert.deepStrictEqual(PoolDemand.patch("k", 4, now), {
      metadata: { annotations: { k: PoolDemand.encode({ waiting: 4, until: now }) } },
    })
  })
})
