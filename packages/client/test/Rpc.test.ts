import { Eventually } from "@agent-sandbox/testing"
import { Pools } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, Layer, Ref, Stream } from "effect"
import { AgentSandbox, SandboxRpcClient } from "../src/index.ts"
import * as Operator from "./support/Operator.ts"

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

const text = (chunks: Chunk.Chunk<{ readonly _tag: string; readonly data?: Uint8Array }>, tag: string) =>
  Buffer.concat(
    Chunk.toReadonlyArray(chunks)
      .filter((c) => c._tag === tag)
      .map((c) => c.data ?? new Uint8Array()),
  ).toString("utf8")

/** Sandboxes of the pool still allocated, as the Pods themselves record it. */
const allocatedPods = (namespace: string, pool: string) =>
  Effect.map(Pools.poolPods(namespace, pool), (list) =>
    list.items.filter((p) => p.metadata?.labels?.["sandbox.agent-sandbox.dev/state"] === "allocated"),
  )

layer(Operator.layer("rpc", 50), { timeout: "240 seconds", excludeTestServices: true })(
  "Effect RPC against a real operator",
  (it) => {
    const transports = [
      ["HTTP (NDJSON)", SandboxRpcClient.layerHttp],
      ["WebSocket", SandboxRpcClient.layerWebSocket],
    ] as const

    for (const [name, transport] of transports) {
      it.effect(`${name}: allocate, get, list, extend, exec, release; watch sees it; tenancy holds`, () =>
        Effect.gen(function* () {
          const { baseUrl, key, otherKey } = yield* Operator.Operator
          const rpc = yield* SandboxRpcClient.SandboxRpcClient
          const events = yield* Effect.fork(
            rpc.watch().pipe(
              Stream.filter((e) => e._tag === "Ended"),
              Stream.take(1),
              Stream.runCollect,
            ),
          )
          const sandbox = yield* rpc.allocate({ pool: "warm", metadata: { via: "rpc" } })
          assert.strictEqual(sandbox.tenant, "team-a")
          assert.strictEqual((yield* rpc.get({ id: sandbox.id })).pod, sandbox.pod)
          const listed = yield* rpc.list({ metadata: { via: "rpc" } })
          assert.deepStrictEqual(
            listed.map((s) => s.id),
            [sandbox.id],
          )
          const extended = yield* rpc.extend({ id: sandbox.id, timeoutSeconds: 1800 })
          assert.isTrue(extended.expiresAt.epochMillis > sandbox.expiresAt.epochMillis)

          const output = yield* rpc
            .exec({ id: sandbox.id, command: ["sh", "-c", "echo out; echo err >&2; exit 3"] })
            .pipe(Stream.runCollect)
          assert.strictEqual(text(output, "Stdout"), "out\n")
          assert.strictEqual(text(output, "Stderr"), "err\n")
          assert.deepStrictEqual(
            Chunk.last(output).pipe((o) => (o._tag === "Some" ? o.value : undefined)),
            {
              _tag: "Exit",
              exitCode: 3,
            },
          )

          // Another tenant sees nothing of it, over RPC too.
          const other = yield* Effect.flip(
            Effect.flatMap(SandboxRpcClient.SandboxRpcClient, (r) => r.get({ id: sandbox.id })).pipe(
              Effect.provide(transport({ baseUrl, apiKey: otherKey })),
            ),
          )
          assert.strictEqual(other._tag, "SandboxNotFound")
          const nobody = yield* Effect.flip(
            Effect.flatMap(SandboxRpcClient.SandboxRpcClient, (r) => r.list({})).pipe(
              Effect.provide(transport({ baseUrl, apiKey: `e2b_${"0".repeat(40)}` })),
            ),
          )
          assert.strictEqual(nobody._tag, "Unauthorized")

          yield* rpc.release({ id: sandbox.id })
          const ended = yield* Fiber.join(events)
          assert.deepStrictEqual(
            Chunk.toReadonlyArray(ended).map((e) => (e._tag === "Ended" ? e.id : "")),
            [sandbox.id],
          )
          const gone = yield* Effect.flip(rpc.get({ id: sandbox.id }))
          assert.strictEqual(gone._tag, "SandboxNotFound")
          // The same key through REST agrees.
          const rest = new AgentSandbox({ baseUrl, apiKey: key })
          const left = yield* promise(async () => {
            const ids: Array<string> = []
            for await (const s of rest.list({ metadata: { via: "rpc" } })) ids.push(s.id)
            await rest.close()
            return ids
          })
          assert.deepStrictEqual(left, [])
        }).pipe(
          Effect.provide(
            Layer.unwrapEffect(
              Effect.map(Operator.Operator, (o) => transport({ baseUrl: o.baseUrl, apiKey: o.key })),
            ),
          ),
        ),
      )
    }

    it.effect(
      "an orchestrator holding 50 sandboxes, each running a command, is interrupted: none leaks",
      () =>
        Effect.gen(function* () {
          const { baseUrl, key, namespace } = yield* Operator.Operator
          const started = yield* Ref.make(0)
          const halfway = yield* Deferred.make<void>()
          // One rollout: a sandbox for its scope, a command whose output is read as it comes.
          const rollout = (i: number) =>
            Effect.scoped(
              Effect.gen(function* () {
                const rpc = yield* SandboxRpcClient.SandboxRpcClient
                const sandbox = yield* SandboxRpcClient.scoped({
                  pool: "warm",
                  metadata: { rollout: String(i) },
                })
                yield* rpc.exec({ id: sandbox.id, command: ["sh", "-c", "echo started; sleep 120"] }).pipe(
                  Stream.runForEach((chunk) =>
                    chunk._tag === "Stdout"
                      ? Effect.flatMap(
                          Ref.updateAndGet(started, (n) => n + 1),
                          (n) => (n >= 25 ? Deferred.succeed(halfway, undefined) : Effect.void),
                        )
                      : Effect.void,
                  ),
                )
              }),
            )
          const orchestrator = yield* Effect.forEach(
            Array.from({ length: 50 }, (_, i) => i),
            rollout,
            { concurrency: "unbounded", discard: true },
          ).pipe(Effect.provide(SandboxRpcClient.layerWebSocket({ baseUrl, apiKey: key })), Effect.fork)

          yield* Deferred.await(halfway)
          const held = yield* allocatedPods(namespace, "warm")
          assert.isAtLeast(held.length, 25)
          yield* Fiber.interrupt(orchestrator)

          // Every scope has closed, so every release the client got to ask for has been answered;
          // a claim still in flight when interrupted is given back by the server once the interrupt
          // reaches it. Nothing is left allocated within seconds, against the 300 s sandboxes would
          // otherwise hold their Pods for.
          const rest = new AgentSandbox({ baseUrl, apiKey: key })
          const leftOver = Effect.gen(function* () {
            const listed = yield* promise(async () => {
              const ids: Array<string> = []
              for await (const s of rest.list({ pool: "warm" })) ids.push(s.id)
              return ids
            })
            const pods = (yield* allocatedPods(namespace, "warm")).map((p) => p.metadata?.name)
            return { listed, pods }
          })
          const left = yield* Eventually.eventually(
            Effect.flatMap(leftOver, (left) =>
              left.listed.length === 0 && left.pods.length === 0 ? Effect.succeed(left) : Effect.fail(left),
            ),
            { timeout: "20 seconds", interval: "200 millis" },
          ).pipe(Effect.merge, Effect.ensuring(promise(() => rest.close())))
          assert.deepStrictEqual(left, { listed: [], pods: [] })
        }),
    )
  },
)
