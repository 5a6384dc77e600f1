import { assert, layer } from "@effect/vitest"
import { Effect, Either, Ref } from "effect"
import type { ConfigMap } from "kubernetes-types/core/v1.js"
import { KubeClient } from "../src/KubeClient.ts"
import * as ResourceType from "../src/ResourceType.ts"
import { retryOnConflict } from "../src/RetryOnConflict.ts"
import { clientLayer, testNamespace } from "./cluster.ts"

// Against the local control plane: every Conflict below is the API server's own 409.

/** A ConfigMap `counter` with data.count = "0", and the ways to read and bump it. */
const counter = (namespace: string) =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    yield* client.create(ResourceType.ConfigMap, {
      metadata: { name: "counter", namespace },
      data: { count: "0" },
    })
    const read = client.get(ResourceType.ConfigMap, "counter", { namespace })
    // A PUT carrying the read's resourceVersion: conditional on that version.
    const bump = (current: ConfigMap) =>
      client.replace(
        ResourceType.ConfigMap,
        { ...current, data: { ...current.data, count: String(Number(current.data?.count ?? "0") + 1) } },
        { namespace },
      )
    return { read, bump }
  })

layer(clientLayer, { excludeTestServices: true })("retryOnConflict against the API server", (it) => {
  it.scoped("concurrent read-modify-writes of one object all land", () =>
    Effect.gen(function* () {
      const namespace = yield* testNamespace("retry-concurrent")
      const { read, bump } = yield* counter(namespace)
      const writes = yield* Ref.make(0)
      const writers = 4
      const each = 5
      yield* Effect.forEach(
        Array.from({ length: writers }),
        () =>
          Effect.repeatN(
            retryOnConflict(
              read,
              (current) =>
                Effect.zipRight(
                  Ref.update(writes, (n) => n + 1),
                  bump(current),
                ),
              {
                maxAttempts: 100,
              },
            ),
            each - 1,
          ),
        { concurrency: "unbounded", discard: true },
      )
      const final = yield* read
      assert.strictEqual(final.data?.count, String(writers * each))
      // Every write that lost a race was tried again on a fresh read, never dropped.
      assert.isAtLeast(yield* Ref.get(writes), writers * each)
    }),
  )

  it.scoped("a stale version at hand costs one Conflict, then one read", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("retry-stale")
      const { read, bump } = yield* counter(namespace)
      const stale = yield* read
      yield* bump(stale)
      const reads = yield* Ref.make(0)
      const writes = yield* Ref.make(0)
      const written = yield* retryOnConflict(
        Effect.zipRight(
          Ref.update(reads, (n) => n + 1),
          read,
        ),
        (current) =>
          Effect.zipRight(
            Ref.update(writes, (n) => n + 1),
            bump(current),
          ),
        { seen: stale },
      )
      assert.strictEqual(written.data?.count, "2")
      assert.strictEqual(yield* Ref.get(writes), 2)
      assert.strictEqual(yield* Ref.get(reads), 1)
      assert.strictEqual(
        (yield* client.get(ResourceType.ConfigMap, "counter", { namespace })).data?.count,
        "2",
      )
    }),
  )

  it.scoped("a Conflict on every attempt fails with it once maxAttempts writes are spent", () =>
    Effect.gen(function* () {
      const namespace = yield* testNamespace("retry-exhausted")
      const { read, bump } = yield* counter(namespace)
      const writes = yield* Ref.make(0)
      // Someone else writes between every read and our write.
      const result = yield* retryOnConflict(
        read,
        (current) =>
          Effect.gen(function* () {
            yield* bump(current)
            yield* Ref.update(writes, (n) => n + 1)
            return yield* bump(current)
          }),
        { maxAttempts: 3 },
      ).pipe(Effect.either)
      assert.isTrue(Either.isLeft(result) && result.left.reason === "Conflict")
      assert.strictEqual(yield* Ref.get(writes), 3)
      assert.strictEqual((yield* read).data?.count, "3")
    }),
  )

  it.scoped("any other failure ends it at once, and a decision may write nothing", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("retry-other")
      const { read, bump } = yield* counter(namespace)
      const writes = yield* Ref.make(0)
      const current = yield* read
      yield* client.delete(ResourceType.ConfigMap, "counter", { namespace })
      const gone = yield* retryOnConflict(
        read,
        (c) =>
          Effect.zipRight(
            Ref.update(writes, (n) => n + 1),
            bump(c),
          ),
        { seen: current },
      ).pipe(Effect.either)
      assert.isTrue(Either.isLeft(gone) && gone.left.reason === "NotFound")
      assert.strictEqual(yield* Ref.get(writes), 1)

      const missing = yield* retryOnConflict(read, bump).pipe(Effect.either)
      assert.isTrue(Either.isLeft(missing) && missing.left.reason === "NotFound")

      yield* counter(namespace)
      const unchanged = yield* retryOnConflict(read, (c) =>
        c.data?.count === "0" ? Effect.succeed("nothing to do") : Effect.map(bump(c), () => "bumped"),
      )
      assert.strictEqual(unchanged, "nothing to do")
    }),
  )
})
