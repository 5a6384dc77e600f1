import { assert, layer } from "@effect/vitest"
import { Effect, Queue, Stream } from "effect"
import type { ConfigMap } from "kubernetes-types/core/v1.js"
import { KubeClient } from "../src/KubeClient.ts"
import * as Patch from "../src/Patch.ts"
import * as ResourceType from "../src/ResourceType.ts"
import * as Watcher from "../src/Watcher.ts"
import type { WatcherEvent } from "../src/WatcherEvent.ts"
import { clientLayer, testNamespace } from "./cluster.ts"

/** Keeps a ConfigMap's name and the keys of its data, as a cache that reads nothing else would. */
const keysOnly = (object: ConfigMap): ConfigMap => ({
  metadata: { name: object.metadata?.name ?? "" },
  data: Object.fromEntries(Object.keys(object.data ?? {}).map((key) => [key, ""])),
})

const take = <A>(queue: Queue.Queue<A>) =>
  Queue.take(queue).pipe(
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("no event within 30 s") }),
  )

layer(clientLayer, { excludeTestServices: true })("Watcher transform against the API server", (it) => {
  it.scoped("applies to every listed and watched object before the consumer sees it", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("watch-transform")
      const configMap = (name: string, data: Record<string, string>): ConfigMap => ({
        metadata: { name, namespace, labels: { watched: "yes" } },
        data,
      })
      yield* client.create(ResourceType.ConfigMap, configMap("listed", { big: "x".repeat(1000) }))

      const events = yield* Queue.unbounded<WatcherEvent<ConfigMap>>()
      yield* Watcher.watcher(ResourceType.ConfigMap, {
        namespace,
        labelSelector: "watched=yes",
        pageSize: 1,
        transform: keysOnly,
      }).pipe(
        Stream.runForEach((event) => Queue.offer(events, event)),
        Effect.forkScoped,
      )
      const seen: Array<WatcherEvent<ConfigMap>> = []
      while (seen.at(-1)?._tag !== "InitDone") seen.push(yield* take(events))

      yield* client.create(ResourceType.ConfigMap, configMap("added", { a: "1" }))
      yield* client.patch(ResourceType.ConfigMap, "added", Patch.merge({ data: { b: "2" } }), { namespace })
      yield* client.delete(ResourceType.ConfigMap, "listed", { namespace })
      for (let i = 0; i < 3; i++) seen.push(yield* take(events))

      const objects = seen.flatMap((event) =>
        "object" in event ? [[event._tag, event.object] as const] : [],
      )
      assert.deepStrictEqual(objects, [
        ["InitApply", { metadata: { name: "listed" }, data: { big: "" } }],
        ["Apply", { metadata: { name: "added" }, data: { a: "" } }],
        ["Apply", { metadata: { name: "added" }, data: { a: "", b: "" } }],
        ["Delete", { metadata: { name: "listed" }, data: { big: "" } }],
      ])
    }),
  )
})
