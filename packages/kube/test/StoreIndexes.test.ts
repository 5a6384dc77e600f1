import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Queue, Scope, Stream, TestClock } from "effect"
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

describe("Informer.listen", () => {
  it.scoped(
    "a listener sees the store's content, then each event as the store applies it, until its scope ends",
    () =>
      Effect.gen(function* () {
        const source = yield* Queue.unbounded<WatcherEvent.WatcherEvent<ConfigMap>>()
        const informer = yield* Informer.fromEvents(Stream.fromQueue(source), byTeam)
        yield* Queue.offerAll(source, [
          WatcherEvent.Init,
          WatcherEvent.InitApply(cm("a", "red")),
          WatcherEvent.InitDone,
        ])
        yield* informer.store.ready
        const seen: Array<[string, ReadonlyArray<string | undefined>]> = []
        const listening = yield* Scope.make()
        yield* informer
          .listen(
            (event) =>
              Effect.map(informer.store.byIndex("team", "red"), (red) => {
                seen.push([event._tag, names(red)])
              }),
            { replay: true },
          )
          .pipe(Scope.extend(listening))
        // A listener that dies is logged; the informer and the other listeners go on.
        yield* informer.listen(() => Effect.die("broken"))
        yield* Queue.offer(source, WatcherEvent.Apply(cm("b", "red")))
        const later = yield* informer.subscribe()
        yield* Queue.offer(source, WatcherEvent.Delete(cm("a", "red")))
        yield* Stream.runHead(later)
        yield* Scope.close(listening, Exit.void)
        yield* Queue.offer(source, WatcherEvent.Apply(cm("c", "red")))
        yield* Stream.runHead(later)
        assert.deepStrictEqual(seen, [
          ["Init", ["a"]],
          ["InitApply", ["a"]],
          ["InitDone", ["a"]],
          // Told in the step that applied it: the store holds it already.
          ["Apply", ["a", "b"]],
          ["Delete", ["b"]],
        ])
      }),
  )
})

describe("Trigger.listened", () => {
  it.scoped("holds a relist back until InitDone and passes each distinct ref of a window on once", () =>
    Effect.gen(function* () {
      const toRef = (o: ConfigMap) => [ObjectRef.make(o.metadata?.labels?.team ?? "none", "ns")]
      const { listener, refs } = yield* Trigger.listened(toRef, "50 millis")
      const out = yield* Queue.unbounded<ObjectRef.ObjectRef>()
      yield* refs.pipe(
        Stream.runForEach((ref) => Queue.offer(out, ref)),
        Effect.forkScoped,
      )
      const settle = Effect.zipRight(Effect.yieldNow(), Effect.yieldNow())
      yield* listener(WatcherEvent.Init)
      yield* listener(WatcherEvent.InitApply(cm("a", "red")))
      yield* settle
      yield* TestClock.adjust("60 millis")
      assert.strictEqual(yield* Queue.size(out), 0)
      yield* listener(WatcherEvent.InitDone)
      yield* listener(WatcherEvent.Apply(cm("b", "blue")))
      yield* listener(WatcherEvent.Delete(cm("c", "red")))
      yield* settle
      assert.strictEqual(yield* Queue.size(out), 0)
      yield* TestClock.adjust("60 millis")
      const batch = yield* Effect.fork(Queue.takeN(out, 2))
      assert.deepStrictEqual(
        (yield* Fiber.join(batch))
          .pipe(Chunk.toReadonlyArray)
          .map((r) => r.name)
          .sort(),
        ["blue", "red"],
      )
      yield* TestClock.adjust("60 millis")
      assert.strictEqual(yield* Queue.size(out), 0)
      yield* listener(WatcherEvent.Apply(cm("d", "green")))
      yield* settle
      yield* TestClock.adjust("60 millis")
      assert.deepStrictEqual((yield* Queue.take(out)).name, "green")
    }),
  )
})
