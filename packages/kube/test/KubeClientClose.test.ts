import { assert, layer } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import { KubeClient, type KubeClientShape, layerWith } from "../src/KubeClient.ts"
import * as KubeConfig from "../src/KubeConfig.ts"
import * as ResourceType from "../src/ResourceType.ts"
import { clientLayer, eventually, testNamespace } from "./cluster.ts"

// Closing a client while it is busy, against the API server: reads (HTTP/2), writes with bodies,
// and watches (HTTP/1.1) all on the wire when the layer's scope closes.

/** Errors that escaped every handler while `effect` ran (and a moment after). */
const escaped = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const seen: Array<string> = []
      const onRejection = (reason: unknown) => seen.push(`unhandledRejection: ${String(reason)}`)
      const onException = (error: unknown) => seen.push(`uncaughtException: ${String(error)}`)
      process.on("unhandledRejection", onRejection)
      process.on("uncaughtException", onException)
      return { seen, onRejection, onException }
    }),
    ({ seen }) =>
      Effect.gen(function* () {
        const result = yield* effect
        // Late errors of destroyed connections surface on later turns of the event loop.
        yield* Effect.sleep("300 millis")
        return { result, escaped: seen }
      }),
    ({ onRejection, onException }) =>
      Effect.sync(() => {
        process.off("unhandledRejection", onRejection)
        process.off("uncaughtException", onException)
      }),
  )

const interruptedOnly = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)

const describeExit = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit) ? "succeeded" : (Cause.pretty(exit.cause).split("\n")[0] ?? "")

/** A client of its own, in a scope the test closes. */
const openClient = (scope: Scope.Scope) =>
  Layer.buildWithScope(layerWith({ http2: true, connections: 2 }), scope).pipe(
    Effect.map(Context.get(KubeClient)),
    Effect.provide(KubeConfig.layerFromDefault),
  )

/** Keeps the client busy on every path: watches, a burst of reads, and writes with bodies. */
const keepBusy = (client: KubeClientShape, namespace: string, round: number, done: { count: number }) => {
  let created = 0
  const counted = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.tap(effect, () =>
      Effect.sync(() => {
        done.count++
      }),
    )
  const watch = Stream.runDrain(client.watch(ResourceType.ConfigMap, { namespace, timeoutSeconds: 120 }))
  const read = Effect.forever(counted(client.list(ResourceType.ConfigMap, { namespace })))
  const write = Effect.forever(
    counted(
      Effect.suspend(() =>
        client.create(ResourceType.ConfigMap, {
          metadata: { name: `burst-${round}-${created++}`, namespace },
          data: { payload: "x".repeat(4096) },
        }),
      ),
    ),
  )
  return [
    ...Array.from({ length: 4 }, () => watch),
    ...Array.from({ length: 40 }, () => read),
    ...Array.from({ length: 8 }, () => write),
  ]
}

layer(clientLayer, { excludeTestServices: true })("KubeClient closing with requests in flight", (it) => {
  it.scoped(
    "interrupts what is running, then closes: nothing escapes, nothing fails with a KubeError",
    () =>
      Effect.gen(function* () {
        const namespace = yield* testNamespace("kube-close")
        const { result, escaped: errors } = yield* escaped(
          Effect.gen(function* () {
            const outcomes: Array<string> = []
            // Each round closes a client at a different point of its traffic.
            for (let round = 0; round < 3; round++) {
              const scope = yield* Scope.make()
              const client = yield* openClient(scope)
              const done = { count: 0 }
              // Daemons: nothing but the client's closing ends them.
              const fibers = yield* Effect.forEach(keepBusy(client, namespace, round, done), (work) =>
                Effect.forkDaemon(work),
              )
              yield* eventually(Effect.sync(() => done.count >= 40 * (round + 1)))
              // Some callers give up at the same moment the client closes (aborts racing the close).
              const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
              yield* Effect.forEach(
                fibers.filter((_, i) => i % 2 === 0),
                (fiber) => Fiber.interruptFork(fiber),
                { discard: true },
              )
              yield* Fiber.join(closing).pipe(Effect.timeout("30 seconds"))
              const exits = yield* Effect.forEach(fibers, (fiber) =>
                Fiber.await(fiber).pipe(Effect.timeout("30 seconds")),
              )
              outcomes.push(...exits.filter((exit) => !interruptedOnly(exit)).map(describeExit))

              // A request on a closed client does not reach the wire: it is interrupted too.
              const late = yield* Effect.exit(client.get(ResourceType.Namespace, namespace))
              if (!interruptedOnly(late)) outcomes.push(`after close: ${describeExit(late)}`)
            }
            return outcomes
          }),
        )
        assert.deepStrictEqual(errors, [])
        assert.deepStrictEqual(result, [])
      }),
    { timeout: 180_000 },
  )

  it.scoped("a client that closes while idle leaves no error behind either", () =>
    Effect.gen(function* () {
      const { escaped: errors } = yield* escaped(
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          const client = yield* openClient(scope)
          yield* client.list(ResourceType.Namespace, { limit: 1 })
          yield* Scope.close(scope, Exit.void)
        }),
      )
      assert.deepStrictEqual(errors, [])
    }),
  )
})
