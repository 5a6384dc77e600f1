import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Queue, Stream, TestClock } from "effect"
import type { ConfigMap } from "kubernetes-types/core/v1.js"
import * as Informer from "../src/Informer.ts"
import * as ObjectRef from "../src/ObjectRef.ts"
import * as Store from "../src/Store.ts"
import * as Trigger from "../src/Trigger.ts"
import * as WatcherEvent from "../src/WatcherEvent.ts"

const cm = (name: string, team: string | undefined): ConfigMap => ({
  metadata: { name, namespace: "ns", ...(team === undefined ? {} : { labels: { team } }) },
})
const names = (objects: ReadonlyArray<ConfigMap>) => objects.map((o) => o.metadata?.name).sort()
const byTeam = { team: (o: ConfigMap) => o.metadata?.labels?.team }

describe("Store indexes", () => {
  it.effect("follow applies, moves between values and deletes, and a relist rebuilds them", () =>
    Effect.gen(function* () {
      const writer = yield* Store.makeWriter<ConfigMap, "team">(byTeam)
      yield* writer.apply(WatcherEvent.Init)
      yield* writer.apply(WatcherEvent.InitApply(cm("a", "red")))
      yield* writer.apply(WatcherEvent.InitApply(cm("b", "red")))
      yield* writer.apply(WatcherEvent.InitApply(cm("c", undefined)))
      yield* writer.apply(WatcherEvent.InitDone)
      assert.deepStrictEqual(names(yield* writer.store.byIndex("team", "red")), ["a", "b"])

      yield* writer.apply(WatcherEvent.Apply(cm("b", "blue")))
      assert.deepStrictEqual(names(yield* writer.store.byIndex("team", "red")), ["a"])
      assert.deepStrictEqual(names(yield* writer.store.byIndex("team", "blue")), ["b"])
      yield* writer.apply(WatcherEvent.Delete(cm("a", "red")))
      assert.deepStrictEqual(yield* writer.store.indexValues("team"), ["blue"])

      yield* writer.apply(WatcherEvent.Init)
      yield* writer.apply(WatcherEvent.InitApply(cm("d", "green")))
      // Readers see the old index until the relist is done.
      assert.deepStrictEqual(yield* writer.store.indexValues("team"), ["blue"])
      yield* writer.apply(WatcherEvent.InitDone)
      assert.deepStrictEqual(yield* writer.store.indexValues("team"), ["green"])
      assert.deepStrictEqual(yield* writer.store.byIndex("team", "blue"), [])
    }),
  )

  it.effect(
    "replays nothing before the first list, the content after it, and a relist's part under way",
    () =>
      Effect.gen(function* () {
        const writer = yield* Store.makeWriter<ConfigMap>()
        assert.deepStrictEqual(writer.replay(), [])
        yield* writer.apply(WatcherEvent.Init)
        yield* writer.apply(WatcherEvent.InitApply(cm("a", undefined)))
        assert.deepStrictEqual(writer.replay(), [
          WatcherEvent.Init,
          WatcherEvent.InitApply(cm("a", undefined)),
        ])
        yield* writer.apply(WatcherEvent.InitDone)
        yield* writer.apply(WatcherEvent.Apply(cm("b", undefined)))
        assert.deepStrictEqual(writer.replay(), [
          WatcherEvent.Init,
          WatcherEvent.InitApply(cm("a", undefined)),
          WatcherEvent.InitApply(cm("b", undefined)),
          WatcherEvent.InitDone,
        ])
      }),
  )
})

describe("Informer", () => {
  it.scoped("a late subscriber with replay gets the store's content, then every later event once", () =>
    Effect.gen(function* () {
      const source = yield* Queue.unbounded<WatcherEvent.WatcherEvent<ConfigMap>>()
      const informer = yield* Informer.fromEvents(Stream.fromQueue(source), byTeam)
      const early = yield* informer.subscribe()
      yield* Queue.offerAll(source, [
        WatcherEvent.Init,
        WatcherEvent.InitApply(cm("a", "red")),
        WatcherEvent.InitDone,
      ])
      yield* informer.store.ready
      const late = yield* informer.subscribe({ replay: true })
      yield* Queue.offer(source, WatcherEvent.Apply(cm("b", "red")))
      const earlySeen = yield* Stream.runCollect(Stream.take(early, 4))
      const lateSeen = yield* Stream.runCollect(Stream.take(late, 4))
      assert.deepStrictEqual(Chunk.toReadonlyArray(earlySeen), [
        WatcherEvent.Init,
        WatcherEvent.InitApply(cm("a", "red")),
        WatcherEvent.InitDone,
        WatcherEvent.Apply(cm("b", "red")),
      ])
      assert.deepStrictEqual(Chunk.toReadonlyArray(lateSeen), Chunk.toReadonlyArray(earlySeen))
      // What a subscriber is told, the store holds already.
      assert.deepStrictEqual(names(yield* informer.store.byIndex("team", "red")), ["a", "b"])
    }),
  )
})

describe("Trigger.batched", () => {
  it.scoped("passes each distinct ref of a window on once, after the window", () =>
    Effect.gen(function* () {
      const refs = yield* Queue.unbounded<ObjectRef.ObjectRef>()
      const out = yield* Queue.unbounded<ObjectRef.ObjectRef>()
      yield* Stream.fromQueue(refs).pipe(
        Trigger.batched("50 millis"),
        Stream.runForEach((ref) => Queue.offer(out, ref)),
        Effect.forkScoped,
      )
      yield* Queue.offerAll(refs, [
        ObjectRef.make("a", "ns"),
        ObjectRef.make("b", "ns"),
        ObjectRef.make("a", "ns"),
      ])
      yield* Effect.yieldNow()
      assert.strictEqual(yield* Queue.size(out), 0)
      yield* TestClock.adjust("60 millis")
      const batch = yield* Effect.fork(Queue.takeN(out, 2))
      assert.deepStrictEqual(
        (yield* Fiber.join(batch))
          .pipe(Chunk.toReadonlyArray)
          .map((r) => r.name)
          .sort(),
        ["a", "b"],
      )
      yield* TestClock.adjust("60 millis")
      assert.strictEqual(yield* Queue.size(out), 0)
    }),
  )
})
