import { assert, layer } from "@effect/vitest"
import { Duration, Effect, Either, Option, Queue, Stream } from "effect"
import type { ConfigMap } from "kubernetes-types/core/v1.js"
import { KubeClient } from "../src/KubeClient.ts"
import type { KubeError } from "../src/KubeError.ts"
import * as Patch from "../src/Patch.ts"
import { reflector } from "../src/Reflector.ts"
import * as ResourceType from "../src/ResourceType.ts"
import * as Store from "../src/Store.ts"
import * as Watcher from "../src/Watcher.ts"
import type { WatcherEvent } from "../src/WatcherEvent.ts"
import {
  awaitServed,
  clientLayer,
  eventually,
  testNamespace,
  uniqueName,
  type Widget,
  widgetCrd,
  widgetDefinition,
  widgetType,
} from "./cluster.ts"

/** Runs `stream` into a queue for the rest of the test. */
const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  Effect.gen(function* () {
    const queue = yield* Queue.unbounded<A>()
    yield* Effect.forkScoped(Stream.runForEach(stream, (item) => Queue.offer(queue, item)))
    return queue
  })

const take = <A>(queue: Queue.Queue<A>) =>
  Queue.take(queue).pipe(
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("no event within 30 s") }),
  )

/** Takes events up to and including the first that satisfies `last`. */
const takeThrough = <A>(queue: Queue.Queue<A>, last: (item: A) => boolean) =>
  Effect.gen(function* () {
    const taken: Array<A> = []
    while (true) {
      const item = yield* take(queue)
      taken.push(item)
      if (last(item)) return taken
    }
  })

const describeEvent = (event: WatcherEvent<ConfigMap>): string =>
  event._tag === "Init" || event._tag === "InitDone"
    ? event._tag
    : `${event._tag} ${event.object.metadata?.name}`

const hasManagedFields = (object: unknown) =>
  (object as { metadata?: { managedFields?: unknown } }).metadata?.managedFields !== undefined

const labelled = (name: string, namespace: string, data: Record<string, string> = {}): ConfigMap => ({
  metadata: { name, namespace, labels: { watched: "yes" } },
  data,
})

layer(clientLayer, { excludeTestServices: true })("Watcher against the API server", (it) => {
  it.scoped("lists first, then streams live changes, without managedFields", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("watch-live")
      yield* client.create(ResourceType.ConfigMap, labelled("a", namespace))
      yield* client.create(ResourceType.ConfigMap, labelled("b", namespace))
      yield* client.create(ResourceType.ConfigMap, { metadata: { name: "ignored", namespace } })

      const events = yield* collect(
        Watcher.watcher(ResourceType.ConfigMap, { namespace, labelSelector: "watched=yes", pageSize: 1 }),
      )
      const initial = yield* takeThrough(events, (e) => e._tag === "InitDone")
      assert.deepStrictEqual(initial.map(describeEvent), ["Init", "InitApply a", "InitApply b", "InitDone"])

      yield* client.create(ResourceType.ConfigMap, labelled("c", namespace))
      yield* client.patch(ResourceType.ConfigMap, "a", Patch.merge({ data: { x: "1" } }), { namespace })
      yield* client.delete(ResourceType.ConfigMap, "b", { namespace })
      const live = [yield* take(events), yield* take(events), yield* take(events)]
      assert.deepStrictEqual(live.map(describeEvent), ["Apply c", "Apply a", "Delete b"])
      const patched = live[1]!
      assert.deepStrictEqual(patched._tag === "Apply" ? patched.object.data : undefined, { x: "1" })
      for (const event of [...initial, ...live]) {
        if ("object" in event) assert.isFalse(hasManagedFields(event.object), describeEvent(event))
      }
    }),
  )

  it.scoped("can take its initial list from the API server's watch cache", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("watch-cached")
      yield* client.create(ResourceType.ConfigMap, labelled("a", namespace))
      const events = yield* collect(
        Watcher.watcher(ResourceType.ConfigMap, {
          namespace,
          labelSelector: "watched=yes",
          initialList: "cached",
        }),
      )
      const initial = yield* takeThrough(events, (e) => e._tag === "InitDone")
      assert.deepStrictEqual(initial.map(describeEvent), ["Init", "InitApply a", "InitDone"])
      yield* client.create(ResourceType.ConfigMap, labelled("b", namespace))
      assert.strictEqual(describeEvent(yield* take(events)), "Apply b")
    }),
  )

  it.scoped("resumes where it left off when the server ends a watch: nothing lost, nothing repeated", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("watch-resume")
      yield* client.create(ResourceType.ConfigMap, labelled("counter", namespace, { n: "0" }))
      // The server ends each watch after 1 s; the updates span several of those ends.
      const events = yield* collect(
        Watcher.watcher(ResourceType.ConfigMap, {
          namespace,
          labelSelector: "watched=yes",
          timeoutSeconds: 1,
        }),
      )
      yield* takeThrough(events, (e) => e._tag === "InitDone")
      const updates = 25
      for (let n = 1; n <= updates; n++) {
        yield* client.patch(ResourceType.ConfigMap, "counter", Patch.merge({ data: { n: `${n}` } }), {
          namespace,
        })
        yield* Effect.sleep("150 millis")
      }
      const seen = yield* takeThrough(events, (e) => e._tag === "Apply" && e.object.data?.n === `${updates}`)
      assert.deepStrictEqual(
        seen.map((e) => (e._tag === "Apply" ? Number(e.object.data?.n) : e._tag)),
        Array.from({ length: updates }, (_, i) => i + 1),
      )
    }),
  )

  it.scoped("relists when its resourceVersion has expired (410 Gone inside the watch stream)", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      // A kind served since a moment ago: the API server's watch cache for it begins at the
      // current revision, so any older resourceVersion lies outside its window, as after a long
      // disconnection. The server answers a watch from there with an ERROR event carrying 410.
      const Widget = yield* widgetCrd
      const namespace = yield* testNamespace("watch-gone")
      yield* client.create(Widget, {
        metadata: { name: "kept", namespace },
        spec: { replicas: 1, color: "red" },
      })
      const results = yield* collect(
        Watcher.watcherFrom(client, Widget, { namespace }, Watcher.InitListed("1")),
      )
      const describe = (r: Either.Either<WatcherEvent<Widget>, KubeError>) =>
        Either.isLeft(r)
          ? `error ${r.left.reason}`
          : r.right._tag === "Init" || r.right._tag === "InitDone"
            ? r.right._tag
            : `${r.right._tag} ${r.right.object.metadata?.name}`
      const relisted = yield* takeThrough(results, (r) => Either.isRight(r) && r.right._tag === "InitDone")
      assert.deepStrictEqual(relisted.map(describe), ["error Gone", "Init", "InitApply kept", "InitDone"])
      yield* client.create(Widget, {
        metadata: { name: "later", namespace },
        spec: { replicas: 1, color: "red" },
      })
      assert.strictEqual(describe(yield* take(results)), "Apply later")
    }),
  )

  it.scoped("with backoff it never fails: it waits out a kind that is not served yet", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const group = `${uniqueName("w")}.kube-test.example.com`
      const Widget = widgetType(group)
      const namespace = yield* testNamespace("watch-backoff")
      const fast = { initial: Duration.millis(100), max: Duration.seconds(1), factor: 2, jitter: 0.2 }
      const events = yield* collect(Watcher.watcherWithBackoff(Widget, { namespace }, fast))
      // The watcher announces its list, which fails with 404 until the CRD exists; it keeps
      // retrying, and the stream neither fails nor emits anything else meanwhile.
      assert.strictEqual((yield* take(events))._tag, "Init")
      yield* Effect.sleep("1 second")
      assert.strictEqual(yield* Queue.size(events), 0)
      yield* Effect.acquireRelease(
        client.create(ResourceType.CustomResourceDefinition, widgetDefinition(group) as never),
        () => Effect.ignore(client.delete(ResourceType.CustomResourceDefinition, `widgets.${group}`)),
      )
      yield* awaitServed(group)
      yield* client.create(Widget, {
        metadata: { name: "w1", namespace },
        spec: { replicas: 1, color: "blue" },
      })
      const seen = yield* takeThrough(
        events,
        (e) => (e._tag === "Apply" || e._tag === "InitApply") && e.object.metadata?.name === "w1",
      )
      // Listed before or after w1 was created, but listed once: no relist.
      assert.isFalse(seen.some((e) => e._tag === "Init"))
      const last = seen.at(-1)!
      assert.strictEqual("object" in last ? last.object.spec.color : undefined, "blue")
    }),
  )

  it.scoped("reflector: the store is ready after the first list and follows changes", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("reflector")
      yield* client.create(ResourceType.ConfigMap, labelled("one", namespace, { v: "1" }))
      yield* client.create(ResourceType.ConfigMap, labelled("two", namespace, { v: "1" }))
      const writer = yield* Store.makeWriter<ConfigMap>()
      yield* Effect.forkScoped(
        Stream.runDrain(
          Watcher.watcherWithBackoff(ResourceType.ConfigMap, {
            namespace,
            labelSelector: "watched=yes",
          }).pipe(reflector(writer)),
        ),
      )
      yield* writer.store.ready.pipe(Effect.timeout("30 seconds"))
      assert.deepStrictEqual((yield* writer.store.list).map((o) => o.metadata?.name).sort(), ["one", "two"])

      yield* client.patch(ResourceType.ConfigMap, "one", Patch.merge({ data: { v: "2" } }), { namespace })
      yield* client.delete(ResourceType.ConfigMap, "two", { namespace })
      const dataOf = (key: string) =>
        Effect.map(
          writer.store.get(key),
          Option.map((o) => o.data?.v),
        )
      yield* eventually(
        Effect.gen(function* () {
          return (
            Option.getOrUndefined(yield* dataOf(`${namespace}/one`)) === "2" &&
            Option.isNone(yield* writer.store.get(`${namespace}/two`))
          )
        }),
      )
    }),
  )
})
