import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Stream } from "effect"
import type { ConfigMap } from "kubernetes-types/core/v1.js"
import { reflector } from "../src/Reflector.ts"
import * as Store from "../src/Store.ts"
import * as Trigger from "../src/Trigger.ts"
import * as WatcherEvent from "../src/WatcherEvent.ts"

const cm = (name: string, version: string): ConfigMap => ({
  metadata: { name, namespace: "ns", resourceVersion: version },
})

describe("Store", () => {
  it.effect("is ready after the first InitDone and swaps a relist in at once", () =>
    Effect.gen(function* () {
      const writer = yield* Store.makeWriter<ConfigMap>()
      const ready = yield* Effect.fork(writer.store.ready)
      yield* writer.apply(WatcherEvent.Init)
      yield* writer.apply(WatcherEvent.InitApply(cm("a", "1")))
      yield* writer.apply(WatcherEvent.InitApply(cm("b", "1")))
      assert.isTrue(Option.isNone(yield* Fiber.poll(ready)))
      assert.strictEqual(yield* writer.store.size, 0)
      yield* writer.apply(WatcherEvent.InitDone)
      yield* Fiber.join(ready)
      assert.strictEqual(yield* writer.store.size, 2)

      yield* writer.apply(WatcherEvent.Apply(cm("c", "2")))
      yield* writer.apply(WatcherEvent.Delete(cm("a", "3")))
      assert.deepStrictEqual((yield* writer.store.list).map((o) => o.metadata?.name).sort(), ["b", "c"])

      // A relist: readers keep the old content until InitDone, then see only what was listed.
      yield* writer.apply(WatcherEvent.Init)
      yield* writer.apply(WatcherEvent.InitApply(cm("b", "4")))
      assert.strictEqual(yield* writer.store.size, 2)
      yield* writer.apply(WatcherEvent.InitDone)
      assert.deepStrictEqual(yield* writer.store.list, [cm("b", "4")])
      assert.deepStrictEqual(yield* writer.store.get("ns/b"), Option.some(cm("b", "4")))
      assert.deepStrictEqual(yield* writer.store.get("ns/c"), Option.none())
    }),
  )

  it.effect("reflector passes events through while filling the store", () =>
    Effect.gen(function* () {
      const writer = yield* Store.makeWriter<ConfigMap>()
      const events = [WatcherEvent.Init, WatcherEvent.InitApply(cm("a", "1")), WatcherEvent.InitDone]
      const out = yield* Stream.fromIterable(events).pipe(reflector(writer), Stream.runCollect)
      assert.deepStrictEqual(Chunk.toReadonlyArray(out), events)
      yield* writer.store.ready
      assert.strictEqual(yield* writer.store.size, 1)
    }),
  )
})

describe("Trigger", () => {
  it.effect("holds listed objects back until InitDone, then passes live changes through", () =>
    Effect.gen(function* () {
      const owned: ConfigMap = {
        metadata: {
          name: "child",
          namespace: "ns",
          ownerReferences: [
            { apiVersion: "example.com/v1", kind: "Parent", name: "p", uid: "u" },
            { apiVersion: "v1", kind: "ConfigMap", name: "other", uid: "v" },
          ],
        },
      }
      const events = [
        WatcherEvent.Init,
        WatcherEvent.InitApply(cm("a", "1")),
        WatcherEvent.InitApply(owned),
        WatcherEvent.InitDone,
        WatcherEvent.Apply(cm("b", "2")),
        WatcherEvent.Delete(owned),
      ]
      const self = yield* Stream.fromIterable(events).pipe(Trigger.self, Stream.runCollect)
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(self).map((r) => `${r.namespace}/${r.name}`),
        ["ns/a", "ns/child", "ns/b", "ns/child"],
      )
      const owners = yield* Stream.fromIterable(events).pipe(
        Trigger.owners({ apiVersion: "example.com/v2", kind: "Parent", plural: "parents", namespaced: true }),
        Stream.runCollect,
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(owners), [
        { namespace: "ns", name: "p" },
        { namespace: "ns", name: "p" },
      ])
    }),
  )
})
