import { assert, layer } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"
import {
  AgentSandbox,
  AgentSandboxClient,
  ApiKeyNotFoundError,
  ForbiddenError,
  InvalidRequestError,
  PoolNotFoundError,
  Sandbox,
  SandboxNotFoundError,
  UnauthorizedError,
} from "../src/index.ts"
import * as Operator from "./support/Operator.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** The error a promise rejects with. */
const rejection = (f: () => Promise<unknown>) =>
  Effect.promise(() =>
    f().then(
      () => assert.fail("expected a rejection"),
      (error: unknown) => error,
    ),
  )

layer(Operator.layer("client"), { timeout: "180 seconds", excludeTestServices: true })(
  "the client against a real operator",
  (it) => {
    it.effect("Promise API: create, get, list over pages, extend, release; await using releases", () =>
      Effect.gen(function* () {
        const { baseUrl, key } = yield* Operator.Operator
        const client = new AgentSandbox({ baseUrl, apiKey: key })
        const ids = yield* promise(async () => {
          const a = await client.create({ pool: "warm", timeoutSeconds: 120, metadata: { run: "p1" } })
          const [b, c] = await client.batch({ pool: "warm", count: 2, metadata: { run: "p1" } })
          return [a, b!, c!]
        })
        const [a] = ids
        assert.strictEqual(a!.info.tenant, "team-a")
        assert.deepStrictEqual(a!.info.metadata, { run: "p1" })

        const got = yield* promise(() => client.get(a!.id))
        assert.strictEqual(got.pod, a!.info.pod)

        // Pages of one: three pages, every sandbox once, in id order.
        const listed = yield* promise(async () => {
          const seen: Array<string> = []
          for await (const s of client.list({ metadata: { run: "p1" }, pageSize: 1 })) seen.push(s.id)
          return seen
        })
        assert.deepStrictEqual(listed, ids.map((s) => s.id).sort())

        const extended = yield* promise(() => a!.extend(1800))
        assert.isTrue(extended.expiresAt.epochMillis > got.expiresAt.epochMillis)

        yield* promise(() => Promise.all(ids.map((s) => s.release())))
        // Released twice is still fine: the handle releases once.
        yield* promise(() => a!.release())
        const gone = yield* rejection(() => client.get(a!.id))
        assert.instanceOf(gone, SandboxNotFoundError)

        // await using: released when the block exits, by an exception too.
        const used = yield* promise(async () => {
          let id = ""
          try {
            await using sbx = await client.create({ pool: "warm" })
            id = sbx.id
            throw new Error("the block fails")
          } catch {}
          return id
        })
        const after = yield* rejection(() => client.get(used))
        assert.instanceOf(after, SandboxNotFoundError)
        yield* promise(() => client.close())
      }),
    )

    it.effect("Promise API: typed errors", () =>
      Effect.gen(function* () {
        const { baseUrl, key, otherKey } = yield* Operator.Operator
        const client = new AgentSandbox({ baseUrl, apiKey: key })
        const other = new AgentSandbox({ baseUrl, apiKey: otherKey })
        const nobody = new AgentSandbox({ baseUrl, apiKey: `e2b_${"0".repeat(40)}` })

        assert.instanceOf(yield* rejection(() => nobody.pools()), UnauthorizedError)
        assert.instanceOf(yield* rejection(() => client.create({ pool: "absent" })), PoolNotFoundError)
        assert.instanceOf(
          yield* rejection(() => client.create({ pool: "warm", timeoutSeconds: 7200 })),
          InvalidRequestError,
        )
        // Another tenant's sandbox looks like no sandbox at all.
        const mine = yield* promise(() => client.create({ pool: "warm" }))
        assert.instanceOf(yield* rejection(() => other.get(mine.id)), SandboxNotFoundError)
        yield* promise(() => mine.release())
        // Admin routes need an admin key.
        assert.instanceOf(yield* rejection(() => client.keys.list()), ForbiddenError)
        assert.instanceOf(yield* rejection(() => client.scalePool("x", "warm", 1)), ForbiddenError)
        yield* promise(() => Promise.all([client.close(), other.close(), nobody.close()]))
      }),
    )

    it.effect("Effect API: Sandbox.scoped releases on scope close and on interruption", () =>
      Effect.gen(function* () {
        const { baseUrl, key } = yield* Operator.Operator
        const program = Effect.gen(function* () {
          const client = yield* AgentSandboxClient.AgentSandboxClient
          const scope = yield* Scope.make()
          const sandbox = yield* Scope.extend(
            Sandbox.scoped({ pool: "warm", metadata: { run: "e1" } }),
            scope,
          )
          assert.strictEqual((yield* client.sandboxes.get({ path: { id: sandbox.id } })).id, sandbox.id)
          yield* Scope.close(scope, Exit.void)
          const closed = yield* Effect.flip(client.sandboxes.get({ path: { id: sandbox.id } }))
          assert.strictEqual(closed._tag, "SandboxNotFound")

          // A fiber holding sandboxes is interrupted: its scope closes and releases them.
          const held = yield* Effect.makeSemaphore(0)
          const ids: Array<string> = []
          const fiber = yield* Effect.fork(
            Effect.scoped(
              Effect.gen(function* () {
                const batch = yield* Sandbox.scopedBatch({ pool: "warm", count: 2 })
                ids.push(...batch.map((s) => s.id))
                yield* held.release(1)
                return yield* Effect.never
              }),
            ),
          )
          yield* held.take(1)
          yield* Fiber.interrupt(fiber)
          for (const id of ids) {
            const error = yield* Effect.flip(client.sandboxes.get({ path: { id } }))
            assert.strictEqual(error._tag, "SandboxNotFound")
          }
        })
        yield* Effect.provide(program, AgentSandboxClient.layer({ baseUrl, apiKey: key }))
      }),
    )

    it.effect("admin: keys create, list without secrets, revoke; pools list and scale", () =>
      Effect.gen(function* () {
        const { baseUrl, adminKey, namespace } = yield* Operator.Operator
        const admin = new AgentSandbox({ baseUrl, apiKey: adminKey })
        const created = yield* promise(() => admin.keys.create("team-c"))
        assert.match(created.key, /^e2b_[0-9a-f]{40}$/)
        assert.strictEqual(created.tenant, "team-c")
        assert.isFalse(created.admin)

        const listed = yield* promise(() => admin.keys.list())
        const entry = listed.find((k) => k.id === created.id)
        assert.deepStrictEqual([entry?.tenant, entry?.admin], ["team-c", false])
        assert.notInclude(JSON.stringify(listed), created.key)

        // The new key works (once the key watch has it), then stops working once revoked.
        const teamC = new AgentSandbox({ baseUrl, apiKey: created.key })
        yield* Effect.promise(() => teamC.pools()).pipe(
          Effect.catchAllDefect(() => Effect.fail("not yet")),
          Effect.retry({ times: 50, schedule: undefined }),
          Effect.orDie,
        )
        yield* promise(() => admin.keys.revoke(created.id))
        assert.instanceOf(yield* rejection(() => teamC.pools()), UnauthorizedError)
        assert.instanceOf(yield* rejection(() => admin.keys.revoke(created.id)), ApiKeyNotFoundError)

        const scaled = yield* promise(() => admin.scalePool(namespace, "warm", 4))
        assert.strictEqual(scaled.replicas, 4)
        const pools = yield* promise(() => admin.pools())
        assert.strictEqual(pools.find((p) => p.name === "warm")?.replicas, 4)
        assert.instanceOf(yield* rejection(() => admin.scalePool(namespace, "absent", 1)), PoolNotFoundError)
        yield* promise(() => Promise.all([admin.close(), teamC.close()]))
      }),
    )
  },
)
