import { assert, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { ConfigMap } from "kubernetes-types/core/v1.js"
import * as Action from "../src/Action.ts"
import * as Controller from "../src/Controller.ts"
import * as Informer from "../src/Informer.ts"
import { KubeClient } from "../src/KubeClient.ts"
import * as Patch from "../src/Patch.ts"
import * as ResourceType from "../src/ResourceType.ts"
import { clientLayer, eventually, testNamespace } from "./cluster.ts"

/**
 * A small controller: every ConfigMap labelled role=source gets a "<name>-copy" ConfigMap with
 * the same data, owned by the source and written by server-side apply. Level-based: the
 * reconcile reads the source and states the copy it wants, whatever triggered it.
 */
const copyController = (namespace: string, reconciles: { count: number }) =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    // A shared informer: the test reads the same store the controller reconciles from.
    const informer = yield* Informer.make(ResourceType.ConfigMap, { namespace, labelSelector: "role=source" })
    const controller = Controller.make({
      type: ResourceType.ConfigMap,
      informer,
      owns: [{ type: ResourceType.ConfigMap, watch: { namespace, labelSelector: "role=copy" } }],
      reconcile: (source: ConfigMap) =>
        Effect.gen(function* () {
          reconciles.count++
          if (source.metadata?.deletionTimestamp !== undefined) return Action.awaitChange
          yield* client.apply(
            ResourceType.ConfigMap,
            {
              metadata: {
                name: `${source.metadata?.name}-copy`,
                namespace,
                labels: { role: "copy" },
                ownerReferences: [
                  {
                    apiVersion: "v1",
                    kind: "ConfigMap",
                    name: source.metadata!.name!,
                    uid: source.metadata!.uid!,
                    controller: true,
                  },
                ],
              },
              data: source.data ?? {},
            },
            // A controller owns what it states: force takes fields back from whoever changed them.
            { fieldManager: "copy-controller", force: true },
          )
          return Action.requeue("5 minutes")
        }),
      concurrency: 2,
    })
    yield* Effect.forkScoped(controller)
    return informer.store
  })

layer(clientLayer, { excludeTestServices: true })("Controller against the API server", (it) => {
  it.scoped("reconciles ConfigMaps end to end: creates, follows updates, repairs owned objects", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("controller")
      yield* client.create(ResourceType.ConfigMap, {
        metadata: { name: "early", namespace, labels: { role: "source" } },
        data: { v: "1" },
      })
      const reconciles = { count: 0 }
      const store = yield* copyController(namespace, reconciles)
      yield* store.ready.pipe(Effect.timeout("30 seconds"))

      const copyData = (name: string) =>
        Effect.map(
          Effect.option(client.get(ResourceType.ConfigMap, `${name}-copy`, { namespace })),
          Option.map((copy) => copy.data),
        )
      const copyIs = (name: string, data: Record<string, string>) =>
        Effect.map(
          copyData(name),
          (found) => Option.isSome(found) && JSON.stringify(found.value) === JSON.stringify(data),
        )

      // A source that existed before the controller started, one created after.
      yield* eventually(copyIs("early", { v: "1" }))
      yield* client.create(ResourceType.ConfigMap, {
        metadata: { name: "late", namespace, labels: { role: "source" } },
        data: { v: "a" },
      })
      yield* eventually(copyIs("late", { v: "a" }))

      // An update of the source reaches the copy.
      yield* client.patch(ResourceType.ConfigMap, "late", Patch.merge({ data: { v: "b" } }), { namespace })
      yield* eventually(copyIs("late", { v: "b" }))

      // Someone tampers with the copy: the owner trigger runs the source's reconcile again.
      yield* client.patch(ResourceType.ConfigMap, "early-copy", Patch.merge({ data: { v: "tampered" } }), {
        namespace,
        fieldManager: "someone-else",
      })
      yield* eventually(copyIs("early", { v: "1" }))

      // Deleted: recreated.
      yield* client.delete(ResourceType.ConfigMap, "early-copy", { namespace })
      yield* eventually(copyIs("early", { v: "1" }))
      assert.isAtLeast(reconciles.count, 4)
    }),
  )
})
