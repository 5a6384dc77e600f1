/** Shared pieces of the tests that run against the local control plane ($KUBECONFIG). */
import { randomUUID } from "node:crypto"
import { Duration, Effect, Layer, Schema, type Scope } from "effect"
import { KubeClient, layer } from "../src/KubeClient.ts"
import * as KubeConfig from "../src/KubeConfig.ts"
import type { KubeError } from "../src/KubeError.ts"
import { ObjectMeta } from "../src/ObjectMeta.ts"
import * as ResourceType from "../src/ResourceType.ts"

export const clientLayer: Layer.Layer<KubeClient, KubeError> = layer.pipe(
  Layer.provide(KubeConfig.layerFromDefault),
)

export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`

/** A namespace of its own for one test, deleted when the test's scope closes. */
export const testNamespace = (prefix: string): Effect.Effect<string, KubeError, KubeClient | Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const name = uniqueName(prefix)
    yield* Effect.acquireRelease(client.create(ResourceType.Namespace, { metadata: { name } }), () =>
      Effect.ignore(client.delete(ResourceType.Namespace, name)),
    )
    return name
  })

/** Polls `check` until it returns true (generous: the machine is shared and slow). */
export const eventually = <E, R>(
  check: Effect.Effect<boolean, E, R>,
  timeout: Duration.DurationInput = "30 seconds",
): Effect.Effect<void, E | Error, R> =>
  Effect.gen(function* () {
    const deadline = Date.now() + Duration.toMillis(timeout)
    while (Date.now() < deadline) {
      if (yield* check) return
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.fail(
      new Error(`condition not met within ${Duration.format(Duration.decode(timeout))}`),
    )
  })

/** A small custom resource with status and scale subresources, decoded by a Schema. */
export const Widget = Schema.Struct({
  apiVersion: Schema.optional(Schema.String),
  kind: Schema.optional(Schema.String),
  metadata: Schema.optional(ObjectMeta),
  spec: Schema.Struct({ replicas: Schema.Number, color: Schema.String }),
  status: Schema.optional(
    Schema.Struct({ replicas: Schema.optional(Schema.Number), phase: Schema.optional(Schema.String) }),
  ),
})
export type Widget = typeof Widget.Type

export const widgetType = (group: string): ResourceType.ResourceType<Widget> =>
  ResourceType.customResource({
    group,
    version: "v1",
    kind: "Widget",
    plural: "widgets",
    namespaced: true,
    schema: Widget,
  })

export const widgetDefinition = (group: string) => ({
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                properties: { replicas: { type: "integer" }, color: { type: "string" } },
              },
              status: {
                type: "object",
                properties: { replicas: { type: "integer" }, phase: { type: "string" } },
              },
            },
          },
        },
        subresources: {
          status: {},
          scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas" },
        },
      },
    ],
  },
})

/** Waits until the CRD is Established and its objects are served. */
export const awaitServed = (group: string): Effect.Effect<void, KubeError | Error, KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    yield* eventually(
      Effect.map(client.get(ResourceType.CustomResourceDefinition, `widgets.${group}`), (crd) =>
        (crd.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True"),
      ),
    )
    yield* eventually(
      client.list(widgetType(group), { limit: 1 }).pipe(
        Effect.as(true),
        Effect.catchIf(
          (error) => error.reason === "NotFound",
          () => Effect.succeed(false),
        ),
      ),
    )
  })

/** A unique Widget CRD, served when this returns and deleted when the scope closes. */
export const widgetCrd: Effect.Effect<
  ResourceType.ResourceType<Widget>,
  KubeError | Error,
  KubeClient | Scope.Scope
> = Effect.gen(function* () {
  const client = yield* KubeClient
  const group = `${uniqueName("w")}.kube-test.example.com`
  yield* Effect.acquireRelease(
    client.create(ResourceType.CustomResourceDefinition, widgetDefinition(group) as never),
    () => Effect.ignore(client.delete(ResourceType.CustomResourceDefinition, `widgets.${group}`)),
  )
  yield* awaitServed(group)
  return widgetType(group)
})
